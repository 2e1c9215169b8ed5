/**
 * Calls to a dependency (PostgreSQL, Redis, NATS) through cockatiel's policies: a retry with exponential
 * back-off for failures that happened before the request reached the dependency (nothing was done, so doing
 * it again is safe), inside a circuit breaker that opens after consecutive failures and then refuses calls at
 * once, without a round trip, until a trial call after `halfOpenAfterMs` succeeds. Errors that are the
 * caller's (a constraint violation, a bad key) pass through and count as neither failure nor success of the
 * dependency. Timeouts are the clients' own (statement, connect and command timeouts), set where each client
 * is made. `stats` feeds `/metrics` (rialto_dependency_*).
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type IPolicy,
} from 'cockatiel';

/** How a dependency's client says what went wrong. */
export interface FailureClassifier {
  /** The dependency failed (unreachable, connection lost, timed out), not the request. */
  isFailure(error: unknown): boolean;
  /** It failed before the request was sent: safe to try again. Implies isFailure. */
  isRetryable(error: unknown): boolean;
}

export interface DependencyGuardOptions {
  /** Consecutive failures that open the circuit. */
  readonly consecutiveFailures: number;
  /** How long an open circuit refuses calls before it lets one through to try. */
  readonly halfOpenAfterMs: number;
  /** Attempts after the first, for retryable failures (0: no retry). */
  readonly retries: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
}

export const DEPENDENCY_GUARD_DEFAULTS: Readonly<DependencyGuardOptions> = Object.freeze({
  consecutiveFailures: 5,
  halfOpenAfterMs: 5_000,
  retries: 2,
  retryInitialDelayMs: 50,
  retryMaxDelayMs: 1_000,
});

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export interface DependencyStats {
  readonly dependency: string;
  readonly state: CircuitStateName;
  /** Calls that failed because of the dependency (each attempt of a retried call counts). */
  readonly failures: number;
  /** Attempts repeated after a retryable failure. */
  readonly retries: number;
  /** Calls refused at once because the circuit was open. */
  readonly rejected: number;
  /** Times the circuit opened. */
  readonly opened: number;
}

/** A call refused or failed because the dependency is unavailable; `cause` holds the client's error. */
export class DependencyUnavailableError extends Error {
  override name = 'DependencyUnavailableError';
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  constructor(
    readonly dependency: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const stateName = (s: CircuitState): CircuitStateName =>
  s === CircuitState.Open || s === CircuitState.Isolated
    ? 'open'
    : s === CircuitState.HalfOpen
      ? 'half_open'
      : 'closed';

export class DependencyGuard {
  private readonly policy: IPolicy;
  private readonly breaker;
  private readonly counts = { failures: 0, retries: 0, rejected: 0, opened: 0 };
  private listeners: ((state: CircuitStateName, cause: unknown) => void)[] = [];
  private lastFailure: unknown = null;

  constructor(
    readonly dependency: string,
    private readonly classifier: FailureClassifier,
    options: Partial<DependencyGuardOptions> = {},
  ) {
    const o = { ...DEPENDENCY_GUARD_DEFAULTS, ...options };
    if (!(Number.isSafeInteger(o.consecutiveFailures) && o.consecutiveFailures >= 1))
      throw new RangeError('consecutiveFailures must be 1 or more');
    if (!(Number.isSafeInteger(o.retries) && o.retries >= 0))
      throw new RangeError('retries must be 0 or more');
    this.breaker = circuitBreaker(
      handleWhen((e) => classifier.isFailure(e)),
      { halfOpenAfter: o.halfOpenAfterMs, breaker: new ConsecutiveBreaker(o.consecutiveFailures) },
    );
    this.breaker.onFailure(({ reason }) => {
      if ('error' in reason && classifier.isFailure(reason.error)) {
        this.counts.failures++;
        this.lastFailure = reason.error;
      }
    });
    this.breaker.onStateChange((s) => {
      if (s === CircuitState.Open) this.counts.opened++;
      for (const l of this.listeners) l(stateName(s), this.lastFailure);
    });
    if (o.retries === 0) {
      this.policy = this.breaker;
    } else {
      const retrying = retry(
        handleWhen((e) => !(e instanceof BrokenCircuitError) && classifier.isRetryable(e)),
        {
          maxAttempts: o.retries,
          backoff: new ExponentialBackoff({
            initialDelay: o.retryInitialDelayMs,
            maxDelay: o.retryMaxDelayMs,
          }),
        },
      );
      retrying.onRetry(() => this.counts.retries++);
      this.policy = wrap(retrying, this.breaker);
    }
  }

  /**
   * Runs `call` under the policies. A refused call (circuit open) or a dependency failure ends as a
   * DependencyUnavailableError; the caller's own errors come through unchanged.
   */
  async execute<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await this.policy.execute(call);
    } catch (e) {
      if (e instanceof BrokenCircuitError) {
        this.counts.rejected++;
        throw new DependencyUnavailableError(
          this.dependency,
          `${this.dependency} is unavailable: refused without trying, after ${String(this.counts.failures)} failures ` +
            `(last: ${describe(this.lastFailure)})`,
          { cause: this.lastFailure },
        );
      }
      if (this.classifier.isFailure(e))
        throw new DependencyUnavailableError(
          this.dependency,
          `${this.dependency} is unavailable: ${describe(e)}`,
          {
            cause: e,
          },
        );
      throw e;
    }
  }

  get state(): CircuitStateName {
    return stateName(this.breaker.state);
  }

  stats(): DependencyStats {
    return { dependency: this.dependency, state: this.state, ...this.counts };
  }

  /** Called with each state change and the failure that caused it (null when none); returns a remover. */
  onStateChange(listener: (state: CircuitStateName, cause: unknown) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) return e.message;
  return e === null || e === undefined ? 'none' : typeof e === 'string' ? e : JSON.stringify(e);
}

/** Node's socket errors that mean the dependency could not be reached or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** Of those, the ones where nothing was sent. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Node socket errors, and errors whose cause is one (clients wrap them). */
export function networkErrorCode(e: unknown): string {
  for (let cur = e, depth = 0; cur !== null && cur !== undefined && depth < 5; depth++) {
    const code = errorCode(cur);
    if (NETWORK_CODES.has(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return '';
}

/**
 * PostgreSQL through `pg`: the SQLSTATE classes of connection trouble (08 connection exception, 57P01-57P03
 * shutdown or not yet accepting, 53300 too many connections), socket errors, and pg's own messages for a
 * connection that ended or a pool that timed out getting one. Connection refused, a pool timeout and "cannot
 * connect now" happen before a query was sent: retryable.
 */
export const POSTGRES_FAILURES: FailureClassifier = {
  isFailure(e) {
    const code = errorCode(e);
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')
      return true;
    if (networkErrorCode(e) !== '') return true;
    const message = e instanceof Error ? e.message : '';
    return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/.test(
      message,
    );
  },
  isRetryable(e) {
    const code = errorCode(e);
    if (code === '57P03' || code === '53300' || code === '08001') return true;
    if (NOT_SENT_CODES.has(networkErrorCode(e))) return true;
    return e instanceof Error && /timeout exceeded when trying to connect/.test(e.message);
  },
};

/**
 * NATS as the outboxes see it: a publish that fails (no answer in time, disconnected, no stream answering) is
 * the server's failure. None is retried here: the outbox retries every message itself, in order, with its own
 * back-off; the breaker spares it the round trips (and the timeouts) while the server is away.
 */
export const NATS_FAILURES: FailureClassifier = {
  isFailure: () => true,
  isRetryable: () => false,
};
