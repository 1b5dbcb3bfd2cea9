// The one schema of every environment variable Portcullis reads, assembled from each area's group.
import { authVariables } from './auth.js';
import { coreVariables } from './core.js';

export const configSchema = {
  ...coreVariables,
  ...authVariables,
};

export type ConfigSchema = typeof configSchema;
