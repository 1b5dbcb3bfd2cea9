// Every sub-command of the `portcullis` CLI. Each area adds its command here.
import type { Command } from './command.js';

export const commands: Command[] = [];
