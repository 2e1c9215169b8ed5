/**
 * `rialto start`'s logs as an operator collects them: JSON lines with request ids, and no secret in them.
 * The built CLI logs at debug (every request) while a client sends every kind of credential there is: API
 * keys in X-API-Key and as bearer, a JWT, a wrong key, credentials in a query string and in a body, and a
 * WebSocket `auth` message. The first admin key appears once, where the first start prints it, and nowhere
 * else; no other secret appears at all. SIGINT stops the venue as SIGTERM does: exit 0 with a snapshot.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { WsClient, wsUrl } from '../gateway/ws/client.js';
import { CHILD_TIMEOUT_MS, startRialto } from './helpers.js';

const JWT_SECRET = 'jwt-secret-for-the-log-test-0123456789-abcdef';

const occurrences = (text: string, what: string): number => text.split(what).length - 1;

describe('rialto start: logs', () => {
  it('are JSON lines with request ids, and never hold a secret; SIGINT stops the venue cleanly', async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rialto-logs-'));
    const child = startRialto(['start'], {
      RIALTO_DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      RIALTO_JWT_SECRET: JWT_SECRET,
    });
    // A venue left running by a failed assertion or a start that timed out would hold the suite up.
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start: ${out} ${err}`)), CHILD_TIMEOUT_MS);
      child.stdout.on('data', () => {
        const m = /venue listening on (http:\/\/\S+) /.exec(out);
        if (m !== null) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then((code) => reject(new Error(`exited ${String(code)}: ${out} ${err}`)));
    });
    const key = /^\s+(rk_\S+)$/m.exec(out)?.[1];
    assert.ok(key !== undefined, out);
    const keySecret = key.slice(key.indexOf('.') + 1);
    const jwt = await new SignJWT({ role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('ops')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET));
    const wrongKey = 'rk_AAAAAAAAAAAAAAAA.WRONGSECRETWRONGSECRETWRONGSECRETWRONGSECRE';
    const querySecret = 'QUERYSECRET0123456789';
    const bodySecret = 'BODYSECRET0123456789';

    const get = (path: string, headers: Record<string, string>) => fetch(`${url}${path}`, { headers });
    assert.equal((await get('/api/v1/admin/instruments', { 'x-api-key': key })).status, 200);
    assert.equal((await get('/api/v1/admin/instruments', { authorization: `Bearer ${key}` })).status, 200);
    assert.equal((await get('/api/v1/admin/instruments', { authorization: `Bearer ${jwt}` })).status, 200);
    assert.equal((await get('/api/v1/admin/instruments', { 'x-api-key': wrongKey })).status, 401);
    assert.equal((await get(`/api/v1/orderbook/BTC-USDT?api_key=${querySecret}`, {})).status, 400);
    assert.equal((await get(`/api/v1/orderbook/BTC-USDT?token=${querySecret}`, {})).status, 400);
    const posted = await fetch(`${url}/api/v1/admin/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ account_id: 1, token: bodySecret, password: bodySecret }),
    });
    assert.equal(posted.status, 400, 'an unknown field is refused (and logged without its value)');
    const ws = await WsClient.open(wsUrl(url, '/ws'));
    const authed = await ws.request({ op: 'auth', id: 'a', token: key });
    assert.equal(authed.type, 'authenticated');
    const refused = await ws.request({ op: 'auth', id: 'b', token: wrongKey });
    assert.equal(refused.type, 'error');
    await ws.close();

    child.kill('SIGINT');
    assert.equal(await exited, 0, err);
    assert.ok(
      readdirSync(dataDir).some((f) => f.startsWith('snapshot-')),
      'a snapshot on SIGINT',
    );

    const all = out + err;
    assert.equal(occurrences(all, keySecret), 1, 'the admin key only where the first start prints it');
    for (const [what, secret] of [
      ['the JWT secret', JWT_SECRET],
      ['the JWT', jwt],
      ["the JWT's signature", jwt.slice(jwt.lastIndexOf('.') + 1)],
      ['a wrong key', wrongKey.slice(wrongKey.indexOf('.') + 1)],
      ['a query credential', querySecret],
      ['a body credential', bodySecret],
    ] as const) {
      assert.equal(occurrences(all, secret), 0, `${what} is never logged`);
    }
    const lines = out.split('\n').filter((l) => l.startsWith('{'));
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId);
    assert.ok(requests.length >= 8, `a JSON line with a request id per request (${requests.length})`);
    assert.ok(
      requests.some((l) => (l.req as { url?: string } | undefined)?.url?.includes('api_key=[redacted]')),
      'a credential in a query string is shown redacted',
    );
  });
});
