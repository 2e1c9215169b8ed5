/**
 * Readiness: whether this process should get traffic. Each part the venue depends on has a probe that answers
 * 'ok' or says what is wrong, within a bound (a probe that hangs is a failing part, not a hanging `/ready`):
 * the engine (running, not failed, not closing), the query store, and Redis and NATS when configured. The
 * probes run together; `/ready` answers 503 naming every part that failed.
 */
import { connect } from 'node:net';
import type { EnginePort } from '../engine/index.js';
import type { Store } from '../store/index.js';
import type { Readiness } from './http/routes-admin.js';

/** How long one probe may take before its part counts as unreachable. */
export const READINESS_PROBE_TIMEOUT_MS = 2000;

/** One part's check: 'ok', or why not (a short sentence). Must not throw. */
export type Probe = () => Promise<string>;

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** `probe`, or 'unreachable: no answer within …' past the timeout. */
export async function bounded(probe: Probe, timeoutMs = READINESS_PROBE_TIMEOUT_MS): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    // Not unref'd: it is cleared as soon as the probe answers, and until then it is what the caller awaits.
    timer = setTimeout(() => resolve(`unreachable: no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([probe().catch((e: unknown) => `unreachable: ${describe(e)}`), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every probe at once; ready when all say 'ok'. */
export async function readinessOf(
  probes: Readonly<Record<string, Probe>>,
  timeoutMs?: number,
): Promise<Readiness> {
  const names = Object.keys(probes);
  const answers = await Promise.all(names.map((n) => bounded(probes[n], timeoutMs)));
  const checks: Record<string, string> = {};
  names.forEach((n, i) => (checks[n] = answers[i]));
  return { ready: answers.every((a) => a === 'ok'), checks };
}

/** The engine's own word ('ok', failed, closing; for a remote one also disconnected or catching up). */
export function engineProbe(engine: EnginePort, closing: () => boolean): Probe {
  return () => Promise.resolve(closing() ? 'closing' : engine.health());
}

export function storeProbe(store: Store): Probe {
  return async () => {
    await store.query('SELECT 1 AS one');
    return 'ok';
  };
}

/** The part of an ioredis client a probe uses. */
export interface Pingable {
  ping(): Promise<string>;
}

export function redisProbe(redis: Pingable): Probe {
  return async () => {
    const answer = await redis.ping();
    return answer === 'PONG' ? 'ok' : `unexpected answer to PING: ${answer.slice(0, 40)}`;
  };
}

/**
 * A NATS server greets every new connection with an `INFO {...}` line before anything else (also when it
 * then upgrades to TLS), so a probe connects, waits for that line and hangs up: reachable and speaking NATS,
 * without a client library or a subscription.
 */
export function natsProbe(natsUrl: string): Probe {
  return () =>
    new Promise<string>((resolve) => {
      const url = new URL(natsUrl);
      const port = url.port === '' ? 4222 : Number(url.port);
      const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
      let greeting = '';
      const done = (answer: string): void => {
        socket.destroy();
        resolve(answer);
      };
      // Its own bound as well, so that a silent server's socket is closed, not only given up on.
      socket.setTimeout(READINESS_PROBE_TIMEOUT_MS, () => done('unreachable: no greeting from the server'));
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        greeting += chunk;
        if (greeting.length >= 5) {
          done(greeting.startsWith('INFO ') ? 'ok' : 'unexpected greeting: not a NATS server');
        }
      });
      socket.on('error', (e) => done(`unreachable: ${describe(e)}`));
      socket.on('end', () => done('unreachable: the server closed the connection'));
    });
}
