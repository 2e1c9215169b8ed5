/**
 * A configuration in a few lines, for `rialto config validate` and for `rialto start` to print at start-up.
 * Secrets never appear: a secret or key is "set" or "not set", and a URL's password is masked.
 */
import { redactUrl } from './schema.js';
import type { VenueConfig } from './types.js';

function jwtText(config: VenueConfig): string {
  const { secret, publicKey, privateKey } = config.auth.jwt;
  const parts: string[] = [];
  if (secret !== null) parts.push('HS256 secret set');
  if (publicKey !== null) parts.push(privateKey === null ? 'EdDSA public key set' : 'EdDSA key pair set');
  return parts.length === 0 ? 'no JWT keys (API keys only)' : parts.join(', ');
}

export function configSummary(config: VenueConfig, envApplied: readonly string[]): string[] {
  const db = config.database;
  const r = config.rateLimits;
  const lines: [string, string][] = [
    ['mode', config.mode],
    ['data dir', config.dataDir],
    ['listen', `${config.server.host}:${config.server.port}`],
    ['database', db.kind === 'pglite' ? `PGlite in ${db.dir}` : `PostgreSQL ${redactUrl(db.url)}`],
    ['query tables', config.queryTables.enabled ? 'on (projected from the journal)' : 'off'],
    ['redis', config.redisUrl === null ? 'none (rate limits in memory)' : redactUrl(config.redisUrl)],
    ['nats', config.natsUrl === null ? 'none (in-process bus)' : redactUrl(config.natsUrl)],
    ['log level', config.logLevel],
    ['auth', config.auth.enabled ? `on, ${jwtText(config)}` : 'OFF'],
    [
      'rate limits',
      r.enabled
        ? `${r.requestsPerMinutePerIp} requests/min per IP, ${r.ordersPerSecondPerAccount} orders/s per account, ` +
          `${r.wsConnectionsPerIp} WebSocket connections per IP`
        : 'OFF',
    ],
    ['market data', config.marketData.public ? 'public' : 'authenticated only'],
    [
      'md pipeline',
      config.marketData.pipeline.enabled
        ? `on: bars ${config.marketData.pipeline.bars.join(', ')}, lateness ${config.marketData.pipeline.latenessMs} ms`
        : 'off',
    ],
    ['metrics', config.metrics.token === null ? '/metrics open (no token)' : '/metrics token set'],
    [
      'hsts',
      config.server.hsts === null
        ? 'off'
        : `max-age ${config.server.hsts.maxAgeSeconds}` +
          (config.server.hsts.includeSubDomains ? ', includeSubDomains' : ''),
    ],
    [
      'trusted proxies',
      config.server.trustedProxies.length === 0
        ? 'none (X-Forwarded-For ignored)'
        : config.server.trustedProxies.join(', '),
    ],
    ['assets', config.assets.map((a) => `${a.code} (id ${a.id}, ${a.decimals} decimals)`).join(', ')],
  ];
  for (const i of config.instruments) {
    lines.push([
      'instrument',
      `${i.spec.symbol} (id ${i.spec.instrument}): tick ${i.tickSize} ${i.quoteCode}, lot ${i.lotSize} ${i.baseCode}`,
    ]);
  }
  if (config.instruments.length === 0) lines.push(['instruments', 'none']);
  if (envApplied.length > 0) lines.push(['from env', envApplied.join(', ')]);
  return lines.map(([k, v]) => `  ${k.padEnd(12)} ${v}`);
}
