// The one schema of every environment variable Portcullis reads, assembled from each area's group.
import { authVariables } from './auth.js';
import { auditVariables } from './audit.js';
import { coreVariables } from './core.js';
import { piiVariables } from './pii.js';
import { residencyVariables } from './residency.js';

export const configSchema = {
  ...coreVariables,
  ...authVariables,
  ...auditVariables,
  ...piiVariables,
  ...residencyVariables,
};

export type ConfigSchema = typeof configSchema;
