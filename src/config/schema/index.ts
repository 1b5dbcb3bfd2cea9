// The one schema of every environment variable Portcullis reads, assembled from each area's group.
import { coreVariables } from './core.js';

export const configSchema = {
  ...coreVariables,
};

export type ConfigSchema = typeof configSchema;
