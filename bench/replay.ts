// Temporary shim while the book tests move to src/cli/workload.ts; removed before the issue closes.
export { makeReplayer, finalBookOf, sameFinalBook, type Replayer } from '../src/cli/workload.js';
