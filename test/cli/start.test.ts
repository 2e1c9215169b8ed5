/**
 * `rialto start` as a user runs it: the built CLI on a fresh data directory and an ephemeral port prints
 * the admin key once, serves the API over a real socket, stops on SIGTERM with exit 0 and a snapshot, and
 * on a second start keeps the order, prints no key and submits no setup again.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { postJson as post, rialto, startVenue as start, stopVenue as stop } from './helpers.js';

describe('rialto start', () => {
  it('is in --help', () => {
    const r = rialto('start', '--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /SIGTERM or SIGINT stops it/);
    assert.match(rialto('--help').stdout, /start \[options\]\s+run the venue/);
  });

  it('serves a venue, prints the admin key once, stops on SIGTERM with a snapshot and restarts with its orders', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rialto-start-'));
    const first = await start(dataDir);
    const key = /^\s+(rk_\S+)$/m.exec(first.stdout())?.[1];
    assert.ok(key !== undefined, first.stdout());
    assert.equal((await fetch(`${first.url}/health`)).status, 200);
    assert.equal((await post(`${first.url}/api/v1/admin/accounts`, key, { account_id: 7 })).status, 201);
    const deposit = await post(`${first.url}/api/v1/admin/accounts/7/deposits`, key, {
      asset: 'USDT',
      amount: '1000',
    });
    assert.equal(deposit.status, 201);
    const placed = await post(`${first.url}/api/v1/orders`, key, {
      account_id: 7,
      symbol: 'ETH-USDT',
      side: 'buy',
      order_type: 'limit',
      quantity: '0.1',
      price: '3000',
      client_order_id: 'cli-1',
    });
    assert.equal(placed.status, 201, JSON.stringify(placed.json));
    assert.equal(await stop(first), 0, first.stderr());
    assert.ok(
      readdirSync(dataDir).some((f) => f.startsWith('snapshot-')),
      'a snapshot on a clean stop',
    );

    const second = await start(dataDir);
    try {
      assert.doesNotMatch(second.stdout(), /rk_/, 'the admin key is printed only on the first run');
      const again = await fetch(`${second.url}/api/v1/orders/${String(placed.json.order_id)}`, {
        headers: { 'x-api-key': key },
      });
      assert.deepEqual(await again.json(), placed.json);
    } finally {
      assert.equal(await stop(second), 0, second.stderr());
    }
  });
});
