/**
 * The client's address behind trusted proxies: the walk through X-Forwarded-For from the right while the
 * address found is a trusted proxy, networks of both families, IPv4 peers on dual-stack sockets, and no trust
 * at all without trusted proxies. fastify's `request.ip` is checked to agree with it on the same headers.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { clientAddress, proxyTrust } from '../../../src/gateway/http/client-address.js';

describe('client address behind trusted proxies', () => {
  const trust = proxyTrust(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
  assert.ok(trust !== null);

  it('trusts the listed addresses and networks only', () => {
    assert.equal(trust('10.1.2.3'), true);
    assert.equal(trust('127.0.0.1'), true);
    assert.equal(trust('::ffff:10.9.9.9'), true, 'an IPv4 peer on a dual-stack socket');
    assert.equal(trust('fd12::1'), true);
    assert.equal(trust('127.0.0.2'), false);
    assert.equal(trust('11.0.0.1'), false);
    assert.equal(trust('fe80::1'), false);
    assert.equal(trust('not-an-address'), false);
    assert.equal(proxyTrust([]), null);
  });

  it('walks X-Forwarded-For from the right while the address is a trusted proxy', () => {
    // nginx (127.0.0.1) appended the client it saw; the client's own claim further left is not believed.
    assert.equal(clientAddress('127.0.0.1', '198.51.100.9', trust), '198.51.100.9');
    assert.equal(clientAddress('127.0.0.1', '203.0.113.7, 198.51.100.9', trust), '198.51.100.9');
    // Two proxies of ours in a row: the client is the first address that is not one.
    assert.equal(clientAddress('127.0.0.1', '198.51.100.9, 10.0.0.5', trust), '198.51.100.9');
    assert.equal(clientAddress('::ffff:127.0.0.1', ['198.51.100.9', '10.0.0.5'], trust), '198.51.100.9');
    // A peer that is not a proxy of ours: its header is ignored.
    assert.equal(clientAddress('198.51.100.1', '10.0.0.5', trust), '198.51.100.1');
    // Only proxies all the way: the leftmost.
    assert.equal(clientAddress('127.0.0.1', '10.0.0.7, 10.0.0.5', trust), '10.0.0.7');
    assert.equal(clientAddress('127.0.0.1', undefined, trust), '127.0.0.1');
    // Without trusted proxies the header is never read.
    assert.equal(clientAddress('127.0.0.1', '198.51.100.9', null), '127.0.0.1');
    assert.equal(clientAddress(undefined, undefined, null), 'unknown');
  });

  it("agrees with fastify's request.ip given the same predicate", async () => {
    const app = Fastify({ trustProxy: (address: string) => trust(address) });
    app.get('/ip', (req) => ({ ip: req.ip }));
    await app.ready();
    for (const [peer, header] of [
      ['127.0.0.1', '198.51.100.9'],
      ['127.0.0.1', '203.0.113.7, 198.51.100.9'],
      ['127.0.0.1', '198.51.100.9, 10.0.0.5'],
      ['198.51.100.1', '10.0.0.5'],
      ['127.0.0.1', '10.0.0.7, 10.0.0.5'],
      ['10.0.0.5', 'garbage'],
    ] as const) {
      const r = await app.inject({
        method: 'GET',
        url: '/ip',
        remoteAddress: peer,
        headers: { 'x-forwarded-for': header },
      });
      assert.equal(r.json<{ ip: string }>().ip, clientAddress(peer, header, trust), `${peer} ${header}`);
    }
    await app.close();
  });
});
