// `portcullis/cli`: the command line as a library (run it programmatically or add commands); the layer on top.
export { runCli, defaultIO } from './run.js';
export { UsageError, type Command, type CliIO } from './command.js';
export { commands } from './registry.js';
