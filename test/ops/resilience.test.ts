/**
 * The dependency guard (cockatiel underneath): what is retried, what opens the circuit, what passes through,
 * what an open circuit does, and how PostgreSQL's errors are classified.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  DependencyGuard,
  DependencyUnavailableError,
  POSTGRES_FAILURES,
  type CircuitStateName,
  type FailureClassifier,
} from '../../src/ops/index.js';

class Failure extends Error {
  constructor(
    readonly kind: 'down' | 'refused' | 'caller',
    message: string = kind,
  ) {
    super(message);
  }
}

const classifier: FailureClassifier = {
  isFailure: (e) => e instanceof Failure && e.kind !== 'caller',
  isRetryable: (e) => e instanceof Failure && e.kind === 'refused',
};

const quick = { retryInitialDelayMs: 1, retryMaxDelayMs: 2, halfOpenAfterMs: 60_000 };

/** A call that fails with `errors` in turn, then answers 'ok'; counts its runs. */
function script(...errors: Failure[]): { call: () => Promise<string>; runs: () => number } {
  let runs = 0;
  return {
    call: () => {
      const e = errors[runs++];
      return e === undefined ? Promise.resolve('ok') : Promise.reject(e);
    },
    runs: () => runs,
  };
}

describe('dependency guard', () => {
  it('retries failures from before sending, with back-off, and succeeds', async () => {
    const g = new DependencyGuard('db', classifier, { ...quick, retries: 2 });
    const s = script(new Failure('refused'), new Failure('refused'));
    assert.equal(await g.execute(s.call), 'ok');
    assert.equal(s.runs(), 3);
    assert.deepEqual(g.stats(), {
      dependency: 'db',
      state: 'closed',
      failures: 2,
      retries: 2,
      rejected: 0,
      opened: 0,
    });
  });

  it('gives up after its retries with DEPENDENCY_UNAVAILABLE, and never retries a failure after sending', async () => {
    const g = new DependencyGuard('db', classifier, { ...quick, retries: 1 });
    const refused = script(new Failure('refused'), new Failure('refused'), new Failure('refused'));
    await assert.rejects(g.execute(refused.call), (e: unknown) => {
      assert.ok(e instanceof DependencyUnavailableError);
      assert.equal(e.code, 'DEPENDENCY_UNAVAILABLE');
      assert.match(e.message, /^db is unavailable: refused$/);
      return true;
    });
    assert.equal(refused.runs(), 2);
    const down = script(new Failure('down'));
    await assert.rejects(g.execute(down.call), DependencyUnavailableError);
    assert.equal(down.runs(), 1, 'the request may have been done: not repeated');
  });

  it("passes the caller's errors through unchanged, counting them as nothing", async () => {
    const g = new DependencyGuard('db', classifier, { ...quick, consecutiveFailures: 1 });
    const caller = new Failure('caller', 'duplicate key');
    await assert.rejects(g.execute(script(caller).call), (e) => e === caller);
    assert.equal(g.state, 'closed');
    assert.equal(g.stats().failures, 0);
  });

  it('opens after consecutive failures, refuses without calling, half-opens after the wait and closes on success', async () => {
    const states: CircuitStateName[] = [];
    const g = new DependencyGuard('db', classifier, {
      ...quick,
      retries: 0,
      consecutiveFailures: 3,
      halfOpenAfterMs: 50,
    });
    g.onStateChange((s) => states.push(s));
    for (let i = 0; i < 3; i++) await assert.rejects(g.execute(script(new Failure('down')).call));
    assert.equal(g.state, 'open');
    const untouched = script();
    await assert.rejects(
      g.execute(untouched.call),
      /db is unavailable: refused without trying, after 3 failures \(last: down\)/,
    );
    assert.equal(untouched.runs(), 0, 'no round trip while open');
    assert.equal(g.stats().rejected, 1);
    await new Promise((r) => setTimeout(r, 80));
    // The trial call fails: open again at once.
    await assert.rejects(g.execute(script(new Failure('down')).call));
    assert.equal(g.state, 'open');
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(await g.execute(script().call), 'ok');
    assert.equal(g.state, 'closed');
    assert.deepEqual(states, ['open', 'half_open', 'open', 'half_open', 'closed']);
    assert.equal(g.stats().opened, 2);
  });

  it('a success between failures keeps the circuit closed (consecutive, not total)', async () => {
    const g = new DependencyGuard('db', classifier, { ...quick, retries: 0, consecutiveFailures: 2 });
    for (let i = 0; i < 5; i++) {
      await assert.rejects(g.execute(script(new Failure('down')).call));
      assert.equal(await g.execute(script().call), 'ok');
    }
    assert.equal(g.state, 'closed');
    assert.equal(g.stats().failures, 5);
  });
});

describe('PostgreSQL failure classes', () => {
  const err = (props: Record<string, unknown>, message = 'x'): Error =>
    Object.assign(new Error(message), props);
  const cases: [string, unknown, boolean, boolean][] = [
    ['connection refused', err({ code: 'ECONNREFUSED' }), true, true],
    ['reset mid-query', err({ code: 'ECONNRESET' }), true, false],
    ['wrapped refusal', new Error('wrapped', { cause: err({ code: 'ECONNREFUSED' }) }), true, true],
    ['connection failure 08006', err({ code: '08006' }), true, false],
    ['cannot connect now 57P03', err({ code: '57P03' }), true, true],
    ['admin shutdown 57P01', err({ code: '57P01' }), true, false],
    ['too many connections', err({ code: '53300' }), true, true],
    ['pool timeout', new Error('timeout exceeded when trying to connect'), true, true],
    ['connection terminated', new Error('Connection terminated unexpectedly'), true, false],
    ['unique violation', err({ code: '23505' }), false, false],
    ['syntax error', err({ code: '42601' }), false, false],
    ['statement timeout', err({ code: '57014' }), false, false],
  ];
  for (const [name, e, failure, retryable] of cases) {
    it(`${name}: ${failure ? 'a failure' : 'the caller'}${retryable ? ', retryable' : ''}`, () => {
      assert.equal(POSTGRES_FAILURES.isFailure(e), failure);
      assert.equal(POSTGRES_FAILURES.isRetryable(e), retryable);
    });
  }
});
