/** Events for the audit tests: made from a seed, varied in every field the chain covers. */
import { makeEvent, type AuditEventInput } from '../../src/audit/index.js';

export function sampleEvent(i: number): AuditEventInput {
  return makeEvent({
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    timeUs: 1_767_225_600_000_000 + i * 1_000,
    actor: {
      id: i % 3 === 0 ? null : `key${i % 5}`,
      role: i % 2 === 0 ? 'trader' : 'admin',
      ip: '127.0.0.1',
    },
    action: i % 2 === 0 ? 'order.place' : 'balances.read',
    target: { kind: 'account', id: String(1 + (i % 4)) },
    result: i % 7 === 3 ? { status: 'refused', code: 'INSUFFICIENT_FUNDS' } : { status: 'ok', code: null },
    requestId: `req-${i}`,
    details: { n: i, symbol: 'BTC-USDT', nested: { b: [1, 'two'], a: true } },
  });
}

export const sampleEvents = (n: number): AuditEventInput[] =>
  Array.from({ length: n }, (_, i) => sampleEvent(i + 1));
