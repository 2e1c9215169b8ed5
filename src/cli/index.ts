/** The command line's public surface: the command tree, and the pieces other tools may reuse. */
export { CliError, ExitCode, createProgram, type ProgramIo } from './program.js';
export { runDemo } from './demo.js';
export { replayFile, type ReplayOptions, type ReplayReport } from './replay.js';
export { EventFormatter, type Instrument } from './format.js';
export {
  OpType,
  WorkloadError,
  expectedPathOf,
  makeReplayer,
  readExpected,
  readWorkload,
  type Replayer,
  type Workload,
} from './workload.js';
export {
  CORE_WORKLOAD,
  makeCoreReplayer,
  ownersOf,
  setupCommands,
  type CoreReplayer,
} from './core-workload.js';
