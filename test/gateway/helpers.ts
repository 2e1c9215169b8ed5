/**
 * A venue in this process for the gateway's end-to-end tests: a fresh data directory, the default
 * instruments, PGlite (or PostgreSQL), the server on an ephemeral port, and accounts with money and trader
 * keys bound to them.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { venueSetupCommands } from '../../src/cli/venue.js';
import { createKey, startVenue, type Venue } from '../../src/gateway/index.js';
import { loadConfigOrThrow, type VenueConfig } from '../../src/ops/index.js';
import { seedPglite } from '../support/pglite-template.js';

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'rialto-gw-'));

/** A venue's configuration on `dataDir`; a new PGlite database there starts as a copy of initdb's (seedPglite). */
export function testConfig(dataDir: string, env: Record<string, string> = {}): VenueConfig {
  const config = loadConfigOrThrow({
    file: null,
    env: { RIALTO_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ...env },
    cwd: dataDir,
  }).config;
  if (config.database.kind === 'pglite') seedPglite(config.database.dir);
  return config;
}

export async function openVenue(config: VenueConfig, listen = true): Promise<Venue> {
  return startVenue(config, { setup: venueSetupCommands(config, 0), listen });
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** A request through fastify's inject (no socket). */
export async function call(
  venue: Venue,
  method: 'GET' | 'POST' | 'DELETE' | 'PATCH',
  url: string,
  key: string | null,
  body?: unknown,
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (key !== null) headers['x-api-key'] = key;
  const r = await venue.server.inject({
    method,
    url,
    headers,
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
  return { status: r.statusCode, body: r.json<Record<string, unknown>>() };
}

/** Accounts 1 and 2, each with 1,000,000 USDT and 100 BTC, and a trader key for each. */
export async function traders(venue: Venue, admin: string): Promise<{ t1: string; t2: string }> {
  for (const id of [1, 2]) {
    const created = await call(venue, 'POST', '/api/v1/admin/accounts', admin, { account_id: id });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    for (const [asset, amount] of [
      ['USDT', '1000000'],
      ['BTC', '100'],
    ]) {
      const d = await call(venue, 'POST', `/api/v1/admin/accounts/${id}/deposits`, admin, { asset, amount });
      assert.equal(d.status, 201, JSON.stringify(d.body));
    }
  }
  const t1 = await createKey(venue.store, { role: 'trader', accountIds: [1] });
  const t2 = await createKey(venue.store, { role: 'trader', accountIds: [2] });
  return { t1: t1.token, t2: t2.token };
}

export const order = (fields: Record<string, unknown>): Record<string, unknown> => ({
  symbol: 'BTC-USDT',
  order_type: 'limit',
  ...fields,
});
