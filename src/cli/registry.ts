// Every sub-command of the `portcullis` CLI. Each area adds its command here.
import type { Command } from './command.js';
import { auditVerifyCommand } from './commands/audit.js';
import { filterCommand } from './commands/filter.js';
import { keysCommand } from './commands/keys.js';
import { authorizeCommand } from './commands/authorize.js';
import { policiesCommand } from './commands/policies.js';

export const commands: Command[] = [filterCommand, keysCommand, auditVerifyCommand, authorizeCommand, policiesCommand];
