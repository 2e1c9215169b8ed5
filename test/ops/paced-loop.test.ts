/**
 * The background loop the query tables' projector and the audit table's projection share: steps one at a
 * time with the owner's own work, a failure told once per run of failures and retried, a fatal failure
 * told and the end of the loop, and a close that ends a pause at once.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PacedLoop } from '../../src/ops/index.js';

/** Resolves once `check` holds, looking every few milliseconds; throws after 20 s (a failed test ends). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('still not so after 20 s');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('PacedLoop', () => {
  it('runs the owner work and the loop steps one at a time, in the order asked', async () => {
    const loop = new PacedLoop({ retryDelayMsMin: 1, retryDelayMsMax: 1 });
    const log: string[] = [];
    let running = 0;
    const work = (name: string) => async (): Promise<void> => {
      running++;
      assert.equal(running, 1, 'never two at once');
      log.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`${name}:end`);
      running--;
    };
    await Promise.all([loop.serial(work('a')), loop.serial(work('b')), loop.serial(work('c'))]);
    assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('tells a run of failures once, retries, and takes the pause the owner asks after a success', async () => {
    const errors: string[] = [];
    const loop = new PacedLoop({
      retryDelayMsMin: 1,
      retryDelayMsMax: 4,
      onError: (e) => errors.push(e.message),
    });
    let steps = 0;
    const pauses: number[] = [];
    loop.start({
      step: (utilization) => {
        assert.ok(utilization >= 0 && utilization <= 1);
        steps++;
        // Three failures, a success, two failures, then successes.
        if (steps <= 3 || steps === 5 || steps === 6) return Promise.reject(new Error(`down ${steps}`));
        return Promise.resolve(steps);
      },
      pauseMs: (result, tookMs) => {
        assert.ok(tookMs >= 0);
        pauses.push(result);
        return 1;
      },
    });
    await until(() => steps >= 8);
    await loop.close();
    assert.deepEqual(errors, ['down 1', 'down 5']);
    assert.deepEqual(pauses.slice(0, 3), [4, 7, 8]);
  });

  it('ends at a fatal failure, told, without retrying', async () => {
    const errors: Error[] = [];
    const loop = new PacedLoop({ retryDelayMsMin: 1, retryDelayMsMax: 1, onError: (e) => errors.push(e) });
    let steps = 0;
    const fatal = new RangeError('another writer');
    loop.start({
      step: () => {
        steps++;
        return Promise.reject(steps === 1 ? new Error('transient') : fatal);
      },
      pauseMs: () => 1,
      isFatal: (e) => e instanceof RangeError,
    });
    await until(() => errors.length === 2);
    await loop.close();
    assert.equal(steps, 2);
    assert.deepEqual(
      errors.map((e) => e.message),
      ['transient', 'another writer'],
    );
    assert.equal(errors[1], fatal);
  });

  it('tells a failure that is not an Error as one', async () => {
    const errors: Error[] = [];
    const loop = new PacedLoop({ retryDelayMsMin: 1, retryDelayMsMax: 1, onError: (e) => errors.push(e) });
    loop.start({
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      step: () => Promise.reject('a string'),
      pauseMs: () => 1,
    });
    await until(() => errors.length === 1);
    await loop.close();
    assert.ok(errors[0] instanceof Error);
    assert.equal(errors[0].message, 'a string');
  });

  it('closes during a long pause at once, after the step under way', { timeout: 60_000 }, async () => {
    const loop = new PacedLoop({ retryDelayMsMin: 1, retryDelayMsMax: 1 });
    let steps = 0;
    loop.start({
      step: () => Promise.resolve(++steps),
      // A pause far longer than any test: close must not wait for it.
      pauseMs: () => 3_600_000,
    });
    await until(() => steps === 1);
    const closing = loop.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await until(() => closed);
    assert.equal(steps, 1, 'no step after close');
  });

  // The step under way when close comes must not lead into a pause: the pause's timer does not hold the
  // process, so a close waiting on it could be left with nothing to run (the loop empty, close unresolved).
  for (const outcome of ['succeeds', 'fails'] as const) {
    it(`closes at once when close comes during a step that ${outcome}`, { timeout: 60_000 }, async () => {
      const loop = new PacedLoop({ retryDelayMsMin: 3_600_000, retryDelayMsMax: 3_600_000 });
      let finishStep: () => void = () => undefined;
      let steps = 0;
      loop.start({
        step: () =>
          new Promise<number>((resolve, reject) => {
            steps++;
            finishStep = () => (outcome === 'succeeds' ? resolve(steps) : reject(new Error('down')));
          }),
        pauseMs: () => 3_600_000,
      });
      await until(() => steps === 1);
      const closing = loop.close();
      let closed = false;
      void closing.then(() => (closed = true));
      finishStep();
      // A held timer of the test's own keeps the process up while close is checked.
      await until(() => closed);
      assert.equal(steps, 1, 'no step after close');
    });
  }
});
