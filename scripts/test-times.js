// A node:test reporter that writes, at the end of a run, one JSON line per test file: the sum of the
// durations of its top-level tests and suites, as the file's own process measured them (the hooks inside
// suites count; the process start, imports and top-level hooks do not), and how many tests it ran.
// Durations, not the time between events: with files run concurrently, the runner may hold back a file's
// events until the files before it are reported. scripts/run-tests.js prints the slowest files with it.
export default async function* testTimes(source) {
  const files = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { file, nesting, details } = event.data;
    if (file === undefined) continue;
    let f = files.get(file);
    if (f === undefined) {
      f = { ms: 0, tests: 0 };
      files.set(file, f);
    }
    if (nesting === 0) f.ms += details?.duration_ms ?? 0;
    if (details?.type !== 'suite') f.tests++;
  }
  for (const [file, f] of files) yield `${JSON.stringify({ file, ms: Math.round(f.ms), tests: f.tests })}\n`;
}
