/**
 * The client's address behind trusted proxies (`server.trustedProxies`): a request whose peer is a trusted
 * proxy is taken to come from the address that proxy names last in X-Forwarded-For, and so on leftwards
 * while the address found is a trusted proxy too. The first untrusted address is the client. Without trusted
 * proxies the header is ignored: anyone can write it. fastify (its `trustProxy`, for `request.ip`) and the
 * WebSocket upgrade use the same predicate, so a client has one address for every per-IP budget.
 */
import { BlockList, isIP } from 'node:net';

/** Whether an address is one of the trusted proxies; null when none is configured. */
export type ProxyTrust = (address: string) => boolean;

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped === null ? address : mapped[1];
}

/** The predicate for a list of addresses and networks (checked by the configuration), or null for none. */
export function proxyTrust(trusted: readonly string[]): ProxyTrust | null {
  if (trusted.length === 0) return null;
  const list = new BlockList();
  for (const entry of trusted) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The client's address: the peer's, or through the trusted proxies' X-Forwarded-For as described above. */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trust: ProxyTrust | null,
): string {
  let address = plainAddress(peer ?? 'unknown');
  if (trust === null || forwardedFor === undefined) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor)
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  // As fastify's proxy-addr walks: a hop that is not an address is untrusted, so it ends the walk as the client.
  for (let i = hops.length - 1; i >= 0 && trust(address); i--) address = plainAddress(hops[i]);
  return address;
}
