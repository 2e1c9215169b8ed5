// Temporary shim while the book tests move to src/cli/workload.ts; removed before the issue closes.
import { existsSync } from 'node:fs';
import { expectedPathOf, readExpected as readExpectedFile, readWorkload } from '../src/cli/workload.js';
export {
  OpType,
  readWorkload,
  readExpectedFinalBook,
  type FinalBook,
  type Workload,
} from '../src/cli/workload.js';
export function readExpected(opsPath: string): Int32Array | undefined {
  const path = expectedPathOf(opsPath);
  return existsSync(path) ? readExpectedFile(path, readWorkload(opsPath).count) : undefined;
}
