// The one schema of every environment variable Portcullis reads, assembled from each area's group.
import { authVariables } from './auth.js';
import { auditVariables } from './audit.js';
import { coreVariables } from './core.js';
import { piiVariables } from './pii.js';

export const configSchema = {
  ...coreVariables,
  ...authVariables,
  ...auditVariables,
  ...piiVariables,
};

export type ConfigSchema = typeof configSchema;
