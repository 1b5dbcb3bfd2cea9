// Types `Stores.connections.mongodb` wherever this backend's types are loaded (portcullis/mongodb,
// portcullis/stores); the root's `Connections` names no driver. Loads nothing at run time.
import type { Connection } from 'mongoose';

declare module '../../src/contracts/store-set.js' {
  interface Connections {
    /** The shared MongoDB connection, when MONGODB_URI is set. */
    mongodb?: Connection;
  }
}
