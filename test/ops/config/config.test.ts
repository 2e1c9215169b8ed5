/**
 * Loading the venue's configuration: defaults, the file, the environment over it, and every kind of bad
 * input giving a problem that names its field, without throwing.
 */
import { strict as assert } from 'node:assert';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  CONFIG_ENV,
  ConfigError,
  EXAMPLE_JWT_SECRET,
  loadConfig,
  loadConfigOrThrow,
  type ConfigProblem,
  type Env,
  type Mode,
  type VenueConfig,
} from '../../../src/ops/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rialto-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;

function file(yaml: string): string {
  const path = join(dir, `c${fileCount++}.yaml`);
  writeFileSync(path, yaml);
  return path;
}

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function load(yaml: string | null, env: Env = {}, mode?: Mode) {
  return loadConfig({ file: yaml === null ? null : file(yaml), env, cwd: dir, mode });
}

function ok(yaml: string | null, env: Env = {}, mode?: Mode): VenueConfig {
  const r = load(yaml, env, mode);
  assert.ok(r.ok, r.ok ? '' : new ConfigError(r.problems, r.file).message);
  return r.config;
}

function problems(yaml: string | null, env: Env = {}, mode?: Mode): readonly ConfigProblem[] {
  const r = load(yaml, env, mode);
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : r.problems;
}

/** Exactly one problem, at `path`, whose message matches. */
function oneProblem(yaml: string | null, path: string, message: RegExp, env: Env = {}, mode?: Mode): void {
  const found = problems(yaml, env, mode);
  assert.equal(found.length, 1, JSON.stringify(found));
  assert.equal(found[0].path, path);
  assert.match(found[0].message, message);
}

describe('configuration: defaults', () => {
  it('with no file and no environment: development, ./data, port 8080, PGlite, BTC-USDT and ETH-USDT', () => {
    const c = ok(null);
    assert.equal(c.mode, 'development');
    assert.equal(c.dataDir, join(dir, 'data'));
    assert.deepEqual(c.server, { host: '0.0.0.0', port: 8080, hsts: null, trustedProxies: [] });
    assert.deepEqual(c.database, { kind: 'pglite', dir: join(dir, 'data', 'pglite') });
    assert.equal(c.redisUrl, null);
    assert.equal(c.natsUrl, null);
    assert.deepEqual(c.jetstream, {
      streamPrefix: 'RIALTO_MD_',
      subjectPrefix: '',
      duplicateWindowMs: 120_000,
      ackWaitMs: 30_000,
      ackPendingMax: 1_000,
      streamMaxBytes: 1024 ** 3,
    });
    assert.equal(c.marketData.redisKeyPrefix, 'rialto:md:');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.auth.enabled, true);
    assert.deepEqual(c.rateLimits, {
      enabled: true,
      requestsPerMinutePerIp: 1000,
      ordersPerSecondPerAccount: 10_000,
      wsConnectionsPerIp: 100,
    });
    assert.deepEqual(c.marketData, {
      public: true,
      pipeline: {
        enabled: true,
        bars: ['time:1s', 'time:1m', 'time:5m', 'time:1h', 'time:1d'],
        latenessMs: 2000,
        partitionsAheadDays: 2,
      },
      redisKeyPrefix: 'rialto:md:',
    });
    assert.deepEqual(
      c.instruments.map((i) => i.spec.symbol),
      ['BTC-USDT', 'ETH-USDT'],
    );
  });

  it('converts the example instruments to integers exactly', () => {
    const [btc, eth] = ok(null).instruments;
    assert.deepEqual(btc.spec, {
      instrument: 1,
      symbol: 'BTC-USDT',
      baseAsset: 1,
      quoteAsset: 0,
      baseScale: 10_000, // 0.0001 BTC = 10,000 satoshi
      quoteScale: 1, // 0.0001 BTC × 0.01 USDT = 0.000001 USDT = 1 minor unit
      tickSize: 1,
      lotSize: 1,
      qtyMin: 1,
      qtyMax: 1_000_000,
      priceBandBps: 0,
      referencePrice: 0,
      marketProtectionBps: 500,
      makerFeePpm: 100,
      takerFeePpm: 500,
      markMethod: 1,
    });
    assert.equal(btc.priceUnit, '0.01');
    assert.equal(btc.qtyUnit, '0.0001');
    assert.equal(btc.priceDecimals, 2);
    assert.equal(btc.qtyDecimals, 4);
    assert.equal(eth.spec.baseScale, 100_000);
    assert.equal(eth.spec.quoteScale, 10);
  });

  it('an empty file is the defaults', () => {
    assert.deepEqual(ok(''), ok(null));
  });
});

describe('configuration: the file and the environment', () => {
  it('reads every section of a file', () => {
    const c = ok(`
mode: development
dataDir: /var/lib/rialto
server: { host: 127.0.0.1, port: 9000 }
database: { url: "postgres://u:p@db:5432/rialto" }
redis: { url: "redis://cache:6379" }
nats: { url: "nats://bus:4222" }
log: { level: warn }
auth: { enabled: true, jwt: { secret: ${SECRET}, issuer: rialto, audience: traders } }
rateLimits: { requestsPerMinutePerIp: 50, ordersPerSecondPerAccount: 5, wsConnectionsPerIp: 2 }
marketData: { public: false }
assets: [{ id: 0, code: USD, decimals: 2 }, { id: 7, code: BTC, decimals: 8 }]
instruments:
  - { id: 9, symbol: BTC-USD, base: BTC, quote: USD, tickSize: "1", lotSize: "0.04", maxQty: "10",
      priceUnit: "0.5", qtyUnit: "0.02", referencePrice: "65000", priceBandBps: 1000, marketProtectionBps: 300,
      makerFee: "-0.0001", takerFee: "0.0002", markMethod: mid }
`);
    assert.equal(c.dataDir, '/var/lib/rialto');
    assert.deepEqual(c.server, { host: '127.0.0.1', port: 9000, hsts: null, trustedProxies: [] });
    assert.deepEqual(c.database, { kind: 'postgres', url: 'postgres://u:p@db:5432/rialto' });
    assert.equal(c.redisUrl, 'redis://cache:6379');
    assert.equal(c.natsUrl, 'nats://bus:4222');
    assert.equal(c.logLevel, 'warn');
    assert.deepEqual(c.auth.jwt, {
      secret: SECRET,
      publicKey: null,
      privateKey: null,
      issuer: 'rialto',
      audience: 'traders',
    });
    assert.equal(c.rateLimits.ordersPerSecondPerAccount, 5);
    assert.equal(c.marketData.public, false);
    const [i] = c.instruments;
    assert.deepEqual(i.spec, {
      instrument: 9,
      symbol: 'BTC-USD',
      baseAsset: 7,
      quoteAsset: 0,
      baseScale: 2_000_000, // 0.02 BTC in satoshis
      quoteScale: 1, // 0.02 BTC × 0.5 USD = 0.01 USD: one cent
      tickSize: 2, // 1 USD in units of 0.5
      lotSize: 2, // 0.04 BTC in units of 0.02
      qtyMin: 2,
      qtyMax: 500,
      priceBandBps: 1000,
      referencePrice: 130_000,
      marketProtectionBps: 300,
      makerFeePpm: -100,
      takerFeePpm: 200,
      markMethod: 2,
    });
  });

  it('lets every environment variable override the file', () => {
    const env: Env = {
      RIALTO_MODE: 'production',
      RIALTO_DATA_DIR: 'elsewhere',
      HOST: '::1',
      PORT: '0',
      DATABASE_URL: 'postgresql://localhost/x',
      REDIS_URL: 'rediss://r:6380',
      NATS_URL: 'tls://n:4222',
      LOG_LEVEL: 'error',
      RIALTO_AUTH_ENABLED: 'true',
      RIALTO_JWT_SECRET: SECRET,
      RIALTO_JWT_ISSUER: 'iss',
      RIALTO_JWT_AUDIENCE: 'aud',
      RIALTO_RATE_LIMITS_ENABLED: '1',
      RIALTO_REQUESTS_PER_MINUTE_PER_IP: '7',
      MAX_ORDERS_PER_SECOND: '3',
      RIALTO_WS_CONNECTIONS_PER_IP: '4',
      RIALTO_MARKET_DATA_PUBLIC: 'false',
      RIALTO_MD_PIPELINE_ENABLED: '0',
      RIALTO_HSTS_ENABLED: 'false',
      RIALTO_METRICS_TOKEN: 'm'.repeat(16),
      RIALTO_TRUSTED_PROXIES: ' 10.0.0.0/8, ,::1',
      RIALTO_NATS_STREAM_PREFIX: 'VENUE_2_',
      RIALTO_NATS_SUBJECT_PREFIX: 'venue2.',
      RIALTO_NATS_DUPLICATE_WINDOW_SECONDS: '600',
      RIALTO_NATS_ACK_WAIT_SECONDS: '5',
      RIALTO_NATS_ACK_PENDING_MAX: '64',
      RIALTO_NATS_STREAM_MAX_MEGABYTES: '16',
      RIALTO_MD_REDIS_PREFIX: 'venue2:md:',
      RIALTO_QUERY_TABLES: 'false',
    };
    const r = load('server: { port: 1234 }\nlog: { level: debug }\n', env);
    assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.problems));
    const c = r.config;
    assert.equal(c.mode, 'production');
    assert.equal(c.dataDir, join(dir, 'elsewhere'));
    assert.deepEqual(c.server, { host: '::1', port: 0, hsts: null, trustedProxies: ['10.0.0.0/8', '::1'] });
    assert.equal(c.metrics.token, 'm'.repeat(16));
    assert.deepEqual(c.database, { kind: 'postgres', url: 'postgresql://localhost/x' });
    assert.deepEqual(c.queryTables, { enabled: false }, 'off although PostgreSQL would turn it on');
    assert.equal(c.redisUrl, 'rediss://r:6380');
    assert.equal(c.natsUrl, 'tls://n:4222');
    assert.equal(c.logLevel, 'error');
    assert.equal(c.auth.jwt.secret, SECRET);
    assert.deepEqual(c.rateLimits, {
      enabled: true,
      requestsPerMinutePerIp: 7,
      ordersPerSecondPerAccount: 3,
      wsConnectionsPerIp: 4,
    });
    assert.equal(c.marketData.public, false);
    assert.equal(c.marketData.pipeline.enabled, false);
    assert.equal(c.marketData.redisKeyPrefix, 'venue2:md:');
    assert.deepEqual(c.jetstream, {
      streamPrefix: 'VENUE_2_',
      subjectPrefix: 'venue2.',
      duplicateWindowMs: 600_000,
      ackWaitMs: 5_000,
      ackPendingMax: 64,
      streamMaxBytes: 16 * 1024 ** 2,
    });
    // Every variable of the table was used.
    const envOnlyKeys = ['RIALTO_JWT_PUBLIC_KEY', 'RIALTO_JWT_PRIVATE_KEY'];
    assert.deepEqual(
      [...r.envApplied].sort(),
      CONFIG_ENV.map((v) => v.name)
        .filter((n) => !envOnlyKeys.includes(n))
        .sort(),
    );
  });

  it('turns the query tables on for PostgreSQL and off for PGlite unless told', () => {
    assert.deepEqual(ok('').queryTables, { enabled: false });
    assert.deepEqual(ok('database: { url: postgres://db/rialto }').queryTables, { enabled: true });
    assert.deepEqual(ok('database: { queryTables: true }').queryTables, { enabled: true });
    assert.deepEqual(ok('database: { url: postgres://db/rialto, queryTables: false }').queryTables, {
      enabled: false,
    });
  });

  it('reads the market data pipeline section', () => {
    const c = ok(
      'marketData: { pipeline: { enabled: false, bars: [time:30s, tick:500, volume:100, dollar:5000], latenessMs: 0, partitionsAheadDays: 7 } }',
    );
    assert.deepEqual(c.marketData.pipeline, {
      enabled: false,
      bars: ['time:30s', 'tick:500', 'volume:100', 'dollar:5000'],
      latenessMs: 0,
      partitionsAheadDays: 7,
    });
  });

  it('treats an empty variable as unset', () => {
    const c = ok('database: { url: "postgres://h/db" }\n', { DATABASE_URL: '', PORT: '' });
    assert.equal(c.database.kind, 'postgres');
    assert.equal(c.server.port, 8080);
  });

  it('--mode wins over the file and the environment', () => {
    assert.equal(ok('mode: production\n', { RIALTO_MODE: 'production' }, 'development').mode, 'development');
  });

  it('warns of RIALTO_ variables that are not settings, without failing', () => {
    const r = load(null, { RIALTO_JWT_SECRT: 'x' });
    assert.ok(r.ok);
    assert.match(r.warnings.join('\n'), /RIALTO_JWT_SECRT is set but is not a Rialto setting/);
  });

  it('accepts a matching Ed25519 key pair and says which keys are wrong', () => {
    const pair = generateKeyPairSync('ed25519');
    const pub = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const priv = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const c = ok(null, { RIALTO_JWT_PUBLIC_KEY: pub, RIALTO_JWT_PRIVATE_KEY: priv });
    assert.equal(c.auth.jwt.publicKey, pub);
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    oneProblem(null, 'auth.jwt.privateKey', /does not belong to auth.jwt.publicKey/, {
      RIALTO_JWT_PUBLIC_KEY: other,
      RIALTO_JWT_PRIVATE_KEY: priv,
    });
    oneProblem(null, 'auth.jwt.publicKey', /is required with a private key/, {
      RIALTO_JWT_PRIVATE_KEY: priv,
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'pem',
      type: 'spki',
    });
    const found = problems(null, { RIALTO_JWT_PUBLIC_KEY: rsa.toString() });
    assert.deepEqual(found, [
      {
        path: 'auth.jwt.publicKey',
        env: 'RIALTO_JWT_PUBLIC_KEY',
        message: 'is a rsa key, not Ed25519 (EdDSA)',
      },
    ]);
    oneProblem(null, 'auth.jwt.publicKey', /not a PEM key/, { RIALTO_JWT_PUBLIC_KEY: 'garbage' });
  });
});

describe('configuration: bad input gives a problem naming the field', () => {
  const cases: [string, string, string, RegExp][] = [
    ['unknown top-level key', 'prot: 1\n', 'prot', /unknown key \(allowed here: mode, dataDir, server/],
    [
      'unknown nested key',
      'server: { hots: x }\n',
      'server.hots',
      /unknown key \(allowed here: host, port, hsts, trustedProxies\)/,
    ],
    ['unknown instrument key', instr('tikSize: "1"'), 'instruments[0].tikSize', /unknown key/],
    ['bad mode', 'mode: prod\n', 'mode', /must be one of development, production, got the string "prod"/],
    [
      'port as string',
      'server: { port: "80" }\n',
      'server.port',
      /whole number from 0 to 65535, got the string "80"/,
    ],
    [
      'port too big',
      'server: { port: 70000 }\n',
      'server.port',
      /whole number from 0 to 65535, got number 70000/,
    ],
    ['port fractional', 'server: { port: 80.5 }\n', 'server.port', /whole number/],
    ['empty host', 'server: { host: "" }\n', 'server.host', /host name or IP address/],
    ['section not a mapping', 'server: 8080\n', 'server', /mapping/],
    [
      'bad database URL',
      'database: { url: "mysql://x" }\n',
      'database.url',
      /postgres:\/\/ or postgresql:\/\/ URL/,
    ],
    ['bad redis URL', 'redis: { url: "http://x" }\n', 'redis.url', /redis:\/\/ or rediss:\/\/ URL/],
    ['bad nats URL', 'nats: { url: "nats://a:1,ftp://b" }\n', 'nats.url', /nats:\/\/ or tls:\/\/ URL/],
    [
      'bad log level',
      'log: { level: verbose }\n',
      'log.level',
      /one of fatal, error, warn, info, debug, trace, silent/,
    ],
    ['flag not boolean', 'auth: { enabled: "yes" }\n', 'auth.enabled', /true or false/],
    ['short JWT secret', 'auth: { jwt: { secret: short } }\n', 'auth.jwt.secret', /32 to 4096 characters/],
    [
      'zero rate limit',
      'rateLimits: { ordersPerSecondPerAccount: 0 }\n',
      'rateLimits.ordersPerSecondPerAccount',
      /from 1 to/,
    ],
    ['assets not a list', 'assets: { id: 0 }\n', 'assets', /must be a list of assets/],
    ['empty assets', 'assets: []\n', 'assets', /at least one asset/],
    [
      'lower-case asset code',
      'assets: [{ id: 0, code: usd, decimals: 2 }]\ninstruments: []\n',
      'assets[0].code',
      /capital letters/,
    ],
    [
      'asset decimals',
      'assets: [{ id: 0, code: USD, decimals: 19 }]\ninstruments: []\n',
      'assets[0].decimals',
      /0 to 18/,
    ],
    [
      'asset id',
      'assets: [{ id: 1024, code: USD, decimals: 2 }]\ninstruments: []\n',
      'assets[0].id',
      /0 to 1023/,
    ],
    [
      'missing field',
      'assets: [{ id: 0, code: USD }]\ninstruments: []\n',
      'assets[0].decimals',
      /is required/,
    ],
    [
      'float size',
      instr('tickSize: 0.01'),
      'instruments[0].tickSize',
      /string in quotes \("0.01"\): YAML reads an unquoted number as a float/,
    ],
    [
      'bad decimal',
      instr('tickSize: "1e-2"'),
      'instruments[0].tickSize',
      /decimal number written as a string/,
    ],
    ['zero size', instr('lotSize: "0"'), 'instruments[0].lotSize', /greater than zero/],
    ['bad symbol', instr('symbol: "btc usd"'), 'instruments[0].symbol', /capital letters and digits/],
    [
      'unknown asset',
      instr('base: DOGE'),
      'instruments[0].base',
      /"DOGE" is not an asset of this configuration \(assets: USD, BTC\)/,
    ],
    ['same base and quote', instr('base: USD'), 'instruments[0].quote', /must differ from the base asset/],
    [
      'tick not a multiple of the unit',
      instr('priceUnit: "0.3"'),
      'instruments[0].tickSize',
      /1 is not a whole multiple of the price unit 0.3/,
    ],
    [
      'lot finer than satoshi',
      instr('lotSize: "0.000000001"'),
      'instruments[0].qtyUnit',
      /finer than BTC's minor unit \(8 decimals\)/,
    ],
    [
      'lot × tick finer than a cent',
      instr('tickSize: "0.01"'),
      'instruments[0]',
      /0.0001 USD, not a whole number of USD's minor units/,
    ],
    [
      'minQty not a multiple',
      instr('minQty: "0.015"'),
      'instruments[0].minQty',
      /not a whole multiple of the quantity unit 0.01/,
    ],
    ['minQty above maxQty', instr('minQty: "20"'), 'instruments[0].minQty', /is above maxQty 10/],
    [
      'maxQty beyond 2^53',
      instr('maxQty: "100000000000000000"'),
      'instruments[0].maxQty',
      /more than 2\^53 - 1/,
    ],
    [
      'fee too fine',
      instr('takerFee: "0.0000001"'),
      'instruments[0].takerFee',
      /finer than one part per million/,
    ],
    ['fee too high', instr('takerFee: "0.2"'), 'instruments[0].takerFee', /from 0 to 0.1/],
    ['negative taker fee', instr('takerFee: "-0.001"'), 'instruments[0].takerFee', /from 0 to 0.1/],
    [
      'rebate above taker fee',
      instr('makerFee: "-0.001"'),
      'instruments[0].makerFee',
      /within -takerFee .. takerFee/,
    ],
    ['band out of range', instr('priceBandBps: 10001'), 'instruments[0].priceBandBps', /0 to 10000/],
    ['mark method', instr('markMethod: last'), 'instruments[0].markMethod', /one of last_trade, mid/],
    [
      'bar spec',
      'marketData: { pipeline: { bars: [time:1m, minute] } }',
      'marketData.pipeline.bars[1]',
      /time:N/,
    ],
    [
      'a period that does not divide a day',
      'marketData: { pipeline: { bars: [time:7m] } }',
      'marketData.pipeline.bars[0]',
      /must divide a day/,
    ],
    [
      'a bar spec twice',
      'marketData: { pipeline: { bars: [tick:5, tick:5] } }',
      'marketData.pipeline.bars',
      /twice/,
    ],
    ['no bars', 'marketData: { pipeline: { bars: [] } }', 'marketData.pipeline.bars', /at least one/],
    [
      'lateness',
      'marketData: { pipeline: { latenessMs: -1 } }',
      'marketData.pipeline.latenessMs',
      /0 to 3600000/,
    ],
    ['stream prefix', 'nats: { streamPrefix: "A.B" }\n', 'nats.streamPrefix', /letters, digits, _ or -/],
    [
      'duplicate window',
      'nats: { duplicateWindowSeconds: 0 }\n',
      'nats.duplicateWindowSeconds',
      /1 to 86400/,
    ],
    ['ack wait', 'nats: { ackWaitSeconds: 3601 }\n', 'nats.ackWaitSeconds', /1 to 3600/],
    ['subject prefix', 'nats: { subjectPrefix: Rialto. }\n', 'nats.subjectPrefix', /lowercase words/],
    [
      'subject prefix without a dot',
      'nats: { subjectPrefix: rialto }\n',
      'nats.subjectPrefix',
      /each followed by a dot/,
    ],
    ['ack pending', 'nats: { ackPendingMax: 100001 }\n', 'nats.ackPendingMax', /1 to 100000/],
    ['stream size', 'nats: { streamMaxMegabytes: 0 }\n', 'nats.streamMaxMegabytes', /1 to 1048576/],
    [
      'redis key prefix',
      'marketData: { redisKeyPrefix: "a b" }\n',
      'marketData.redisKeyPrefix',
      /key prefix|:, _/,
    ],
  ];
  for (const [name, yaml, path, message] of cases) {
    it(name, () => {
      const found = problems(yaml);
      const hit = found.find((p) => p.path === path && message.test(p.message));
      assert.ok(hit, `no problem at ${path} matching ${String(message)} in ${JSON.stringify(found)}`);
    });
  }

  it('duplicate ids and symbols', () => {
    const found = problems(`
assets: [{ id: 0, code: USD, decimals: 2 }, { id: 0, code: USD, decimals: 2 }]
instruments:
  - { id: 1, symbol: X, base: USD, quote: USD, tickSize: "1", lotSize: "1", maxQty: "1" }
  - { id: 1, symbol: X, base: USD, quote: USD, tickSize: "1", lotSize: "1", maxQty: "1" }
`);
    const paths = found.map((p) => p.path);
    assert.ok(paths.includes('assets[1].id'), paths.join());
    assert.ok(paths.includes('assets[1].code'));
    assert.ok(paths.includes('instruments[1].id'));
    assert.ok(paths.includes('instruments[1].symbol'));
  });

  it('a bad environment variable names the variable', () => {
    assert.deepEqual(problems(null, { PORT: 'http' }), [
      { path: 'server.port', env: 'PORT', message: 'must be a whole number, got "http"' },
    ]);
    assert.deepEqual(problems(null, { RIALTO_AUTH_ENABLED: 'yes' }), [
      {
        path: 'auth.enabled',
        env: 'RIALTO_AUTH_ENABLED',
        message: 'must be true or false (or 1 or 0), got "yes"',
      },
    ]);
    oneProblem(null, 'database.url', /postgres:\/\/ or postgresql:\/\/ URL/, { DATABASE_URL: 'nonsense' });
    assert.equal(problems(null, { LOG_LEVEL: 'loud' })[0].env, 'LOG_LEVEL');
  });

  it('never shows a password of a bad URL', () => {
    const [p] = problems('database: { url: "mysql://user:hunter2@db/x" }\n');
    assert.doesNotMatch(p.message, /hunter2/);
  });

  it('file-level problems: missing, a directory, not YAML, not a mapping, duplicate keys, too big', () => {
    const missing = loadConfig({ file: join(dir, 'nope.yaml'), env: {}, cwd: dir });
    assert.ok(!missing.ok);
    assert.deepEqual(missing.problems, [{ path: '', env: null, message: 'no such file' }]);
    const folder = loadConfig({ file: dir, env: {}, cwd: dir });
    assert.ok(!folder.ok && /is a directory/.test(folder.problems[0].message));
    assert.match(problems('server: { port: 1\n')[0].message, /is not valid YAML: .*at line \d+, column \d+$/);
    assert.match(problems('- a\n- b\n')[0].message, /must be a mapping of sections/);
    assert.match(problems('42\n')[0].message, /must be a mapping of sections/);
    assert.match(
      problems('mode: development\nmode: production\n')[0].message,
      /not valid YAML.*[Uu]nique|duplicate/i,
    );
    assert.match(problems('x: ' + 'y'.repeat(1 << 20) + '\n')[0].message, /a configuration file has at most/);
  });

  it('an alias bomb is refused, not expanded', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${'b' + i}: &b${i} [${Array(10)
          .fill(i === 0 ? '*a' : `*b${i - 1}`)
          .join(', ')}]`,
      );
    const found = problems(bomb.join('\n') + '\n');
    assert.ok(found.length >= 1);
    assert.ok(found.every((p) => p.path === '' || typeof p.path === 'string'));
  });

  it('lists every problem at once, production rules included, from sections the schema accepted', () => {
    const found = problems(
      'mode: production\nserver: { port: -1 }\nauth: { enabled: false }\nrateLimits: { enabled: false }\n',
      { LOG_LEVEL: 'trace' },
    );
    assert.deepEqual(
      found.map((p) => p.path),
      ['server.port', 'auth.enabled', 'auth.jwt', 'log.level', 'rateLimits.enabled'],
    );
  });

  it('never throws for any input: each problem names a path and says something', () => {
    const inputs = [
      '',
      '~',
      '[]',
      '"x"',
      'a: b: c',
      'server: [1, 2]',
      'instruments: [1, "x", null]',
      '\t-',
      '{{{',
      'assets: [null]',
    ];
    for (const yaml of inputs) {
      const r = load(yaml);
      if (r.ok) continue;
      for (const p of r.problems) assert.ok(p.message.length > 0, yaml);
    }
  });

  it('loadConfigOrThrow throws a ConfigError listing every problem', () => {
    assert.throws(
      () => loadConfigOrThrow({ file: file('server: { port: x }\nlog: { level: y }\n'), env: {}, cwd: dir }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.problems.length, 2);
        assert.match(e.message, /is not valid \(2 problems\):\n {2}server\.port: .*\n {2}log\.level: /);
        return true;
      },
    );
  });
});

describe('configuration: production mode', () => {
  const good = `mode: production\nauth: { jwt: { secret: ${SECRET} } }\n`;

  it('accepts a configuration with a secret, auth, rate limits and info logging', () => {
    assert.equal(ok(good).mode, 'production');
    const pub = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal(ok('mode: production\n', { RIALTO_JWT_PUBLIC_KEY: pub }).auth.jwt.publicKey, pub);
  });

  it('refuses missing secrets', () => {
    oneProblem('mode: production\n', 'auth.jwt', /needs a secret to verify tokens.*RIALTO_JWT_SECRET/);
    oneProblem(null, 'auth.jwt', /needs a secret/, {}, 'production');
  });

  it("refuses the example file's placeholder secret", () => {
    oneProblem(
      `mode: production\nauth: { jwt: { secret: ${EXAMPLE_JWT_SECRET} } }\n`,
      'auth.jwt.secret',
      /placeholder/,
    );
  });

  it('refuses authentication disabled', () => {
    oneProblem(good, 'auth.enabled', /without authentication/, { RIALTO_AUTH_ENABLED: 'false' });
  });

  it('refuses debug and trace logging', () => {
    oneProblem(good + 'log: { level: debug }\n', 'log.level', /refuses debug logging/);
    const [p] = problems(good, { LOG_LEVEL: 'trace' });
    assert.deepEqual(p, { path: 'log.level', env: 'LOG_LEVEL', message: p.message });
    assert.match(p.message, /refuses trace logging/);
  });

  it('refuses rate limits disabled', () => {
    oneProblem(good + 'rateLimits: { enabled: false }\n', 'rateLimits.enabled', /without rate limits/);
  });

  it('development mode allows all of it', () => {
    ok('auth: { enabled: false }\nlog: { level: trace }\nrateLimits: { enabled: false }\n');
  });
});

/** A file with one instrument (USD cents, BTC satoshis), one field replaced or added. */
function instr(field: string): string {
  const fields: Record<string, string> = {
    id: '1',
    symbol: 'BTC-USD',
    base: 'BTC',
    quote: 'USD',
    tickSize: '"1"',
    lotSize: '"0.01"',
    maxQty: '"10"',
  };
  const [key, ...rest] = field.split(':');
  fields[key.trim()] = rest.join(':').trim();
  const body = Object.entries(fields)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  return `assets:\n  - { id: 0, code: USD, decimals: 2 }\n  - { id: 1, code: BTC, decimals: 8 }\ninstruments:\n  -\n${body}\n`;
}

describe('configuration: HSTS and the /metrics token', () => {
  const production = `mode: production\nauth: { jwt: { secret: ${SECRET} } }\n`;

  it('sends HSTS by default in production only, and as configured', () => {
    assert.equal(ok(null).server.hsts, null);
    assert.deepEqual(ok(production).server.hsts, { maxAgeSeconds: 31_536_000, includeSubDomains: false });
    assert.equal(ok(production + 'server: { hsts: { enabled: false } }\n').server.hsts, null);
    assert.deepEqual(
      ok('server: { hsts: { enabled: true, maxAgeSeconds: 600, includeSubDomains: true } }\n').server.hsts,
      { maxAgeSeconds: 600, includeSubDomains: true },
    );
    assert.deepEqual(ok(null, { RIALTO_HSTS_ENABLED: 'true' }).server.hsts?.maxAgeSeconds, 31_536_000);
    oneProblem(
      'server: { hsts: { maxAgeSeconds: 63072001 } }\n',
      'server.hsts.maxAgeSeconds',
      /whole number/,
    );
  });

  it('takes trusted proxies as addresses and networks, from the file or RIALTO_TRUSTED_PROXIES', () => {
    assert.deepEqual(ok(null).server.trustedProxies, []);
    assert.deepEqual(
      ok('server: { trustedProxies: [172.18.0.0/16, 127.0.0.1, "fd00::/8"] }\n').server.trustedProxies,
      ['172.18.0.0/16', '127.0.0.1', 'fd00::/8'],
    );
    assert.deepEqual(ok(null, { RIALTO_TRUSTED_PROXIES: '10.1.2.3' }).server.trustedProxies, ['10.1.2.3']);
    oneProblem(
      'server: { trustedProxies: [nginx] }\n',
      'server.trustedProxies[0]',
      /IP address or a network/,
    );
    oneProblem(
      'server: { trustedProxies: [10.0.0.0/33] }\n',
      'server.trustedProxies[0]',
      /prefix length from 0 to 32/,
    );
    oneProblem('server: { trustedProxies: ["::/129"] }\n', 'server.trustedProxies[0]', /0 to 128/);
    oneProblem(
      'server: { trustedProxies: [1.2.3.4/8/1] }\n',
      'server.trustedProxies[0]',
      /IP address or a network/,
    );
    oneProblem('server: { trustedProxies: 10.0.0.0/8 }\n', 'server.trustedProxies', /a list of IP addresses/);
  });

  it('takes a metrics token of 16 characters or more, from the file or RIALTO_METRICS_TOKEN', () => {
    assert.equal(ok(null).metrics.token, null);
    assert.equal(ok('metrics: { token: abcdefghijklmnop }\n').metrics.token, 'abcdefghijklmnop');
    assert.equal(ok(null, { RIALTO_METRICS_TOKEN: 'q'.repeat(20) }).metrics.token, 'q'.repeat(20));
    oneProblem('metrics: { token: short }\n', 'metrics.token', /16 to 4096 characters/);
  });

  it('warns, without refusing, a production venue whose /metrics has no token', () => {
    const open = load(production);
    assert.ok(open.ok);
    assert.ok(open.warnings.some((w) => w.includes('/metrics is served without a token')));
    const closed = load(production, { RIALTO_METRICS_TOKEN: 'q'.repeat(20) });
    assert.ok(closed.ok);
    assert.deepEqual(closed.warnings, []);
    assert.deepEqual(load(null).warnings, []);
  });
});
