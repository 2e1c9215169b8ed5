/**
 * `rialto engine` and `rialto gateway`: the venue split in processes (docs/internal-transport.md). One engine
 * process owns the data directory and listens on an internal port; any number of stateless gateways connect
 * to it and serve the REST and WebSocket APIs. Both need PostgreSQL (the API keys and the audit inbox are
 * shared through it). `rialto start` still runs everything in one process.
 */
import { Option, type Command } from 'commander';
import type { EngineProcess } from '../gateway/remote/index.js';
import type { VenueConfig } from '../ops/config/types.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { loadCliConfig, startFailure, stopSignal, withServeOptions, type ServeOptions } from './serving.js';
import { venueSetupCommands, venueSetupProblems } from './venue.js';

/** The internal port's default: loopback only (a gateway on another host needs it set). */
export const ENGINE_LISTEN_DEFAULT = '127.0.0.1:7070';
/** A production engine's secret is at least this long. */
export const ENGINE_SECRET_MIN_LENGTH = 32;
const SECRET_ENV = 'RIALTO_ENGINE_SECRET';

/** HOST:PORT (an IPv6 host in brackets), or a usage error. */
export function hostPort(text: string, what: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new CliError(`${what} must be HOST:PORT (port 0 to 65535), not ${JSON.stringify(text)}`);
  }
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

async function loadConfig(opts: ServeOptions, io: ProgramIo): Promise<VenueConfig> {
  const config = await loadCliConfig(opts, io);
  if (config.database.kind !== 'postgres') {
    throw new CliError(
      'the engine and its gateways share PostgreSQL (API keys, the audit inbox): set DATABASE_URL ' +
        '(`rialto start` runs everything in one process on PGlite)',
    );
  }
  return config;
}

/** The shared secret of the internal port: required in production, at least ENGINE_SECRET_MIN_LENGTH long. */
function secretOf(config: VenueConfig): string | null {
  const secret = process.env[SECRET_ENV];
  if (secret === undefined || secret === '') {
    if (config.mode === 'production') {
      throw new CliError(`${SECRET_ENV} must be set in production (the internal port's shared secret)`);
    }
    return null;
  }
  if (config.mode === 'production' && secret.length < ENGINE_SECRET_MIN_LENGTH) {
    throw new CliError(`${SECRET_ENV} must be at least ${ENGINE_SECRET_MIN_LENGTH} characters in production`);
  }
  return secret;
}

async function runEngine(opts: ServeOptions & { listen: string }, io: ProgramIo): Promise<void> {
  try {
    const config = await loadConfig(opts, io);
    const listen = hostPort(opts.listen, '--listen');
    const secret = secretOf(config);
    const refused = venueSetupProblems(config);
    if (refused.length > 0) throw new CliError(`the configuration is not valid:\n  ${refused.join('\n  ')}`);
    const stopping = stopSignal();
    const { jsonLines, startEngineProcess } = await import('../gateway/remote/index.js');
    const p: EngineProcess = await startEngineProcess(config, {
      setup: venueSetupCommands(config, 0),
      host: listen.host,
      port: listen.port,
      secret,
      log: jsonLines,
    });
    if (p.adminKey !== null) {
      io.stdout(
        `\nFirst run: an admin API key was created. It is shown only this once; keep it safe:\n\n` +
          `  ${p.adminKey}\n\n`,
      );
    }
    if (secret === null) io.stderr(`rialto: warning: ${SECRET_ENV} is not set: any client may connect\n`);
    io.stdout(
      `rialto: engine listening on ${p.address} (data ${config.dataDir}, ` +
        `${p.engine.recovery.replayed} journal records recovered in ${p.engine.recovery.ms} ms)\n`,
    );
    const signal = await stopping;
    io.stderr(`rialto: ${signal}: stopping (closing gateways' connections, writing a snapshot)\n`);
    await p.close();
    io.stderr('rialto: stopped\n');
  } catch (e) {
    throw await startFailure(e);
  }
}

async function runGateway(
  opts: ServeOptions & { engine?: string; host?: string; port?: string },
  io: ProgramIo,
): Promise<void> {
  try {
    const loaded = await loadConfig(opts, io);
    if (opts.engine === undefined || opts.engine === '') {
      throw new CliError('--engine HOST:PORT (or RIALTO_ENGINE_ADDRESS) names the engine to connect to');
    }
    const engine = hostPort(opts.engine, '--engine');
    let port = loaded.server.port;
    if (opts.port !== undefined) {
      port = Number(opts.port);
      if (!/^\d{1,5}$/.test(opts.port) || port > 65535) throw new CliError('--port must be 0 to 65535');
    }
    const config: VenueConfig = {
      ...loaded,
      server: { ...loaded.server, host: opts.host ?? loaded.server.host, port },
    };
    const secret = secretOf(config);
    const stopping = stopSignal();
    const address = engine.host.includes(':')
      ? `[${engine.host}]:${engine.port}`
      : `${engine.host}:${engine.port}`;
    const { jsonLines, startGateway } = await import('../gateway/remote/index.js');
    const g = await startGateway(config, {
      engineAddress: address,
      secret,
      log: true,
      processLog: jsonLines,
    });
    io.stdout(
      `rialto: gateway listening on ${g.url} (engine ${address}, ` +
        `${g.replay.commands} journal records caught up in ${g.replay.ms} ms)\n`,
    );
    const signal = await stopping;
    io.stderr(`rialto: ${signal}: stopping (draining requests)\n`);
    await g.close();
    io.stderr('rialto: stopped\n');
  } catch (e) {
    throw await startFailure(e);
  }
}

export function addSplitCommands(program: Command, io: ProgramIo): void {
  withServeOptions(
    program
      .command('engine')
      .summary('run the engine alone, serving gateways on an internal port, until SIGTERM or SIGINT')
      .description(
        'Run the engine in its own process for `rialto gateway` processes to connect to: the engine on the ' +
          'data directory (journal, snapshots and LOCK; RIALTO_DATA_DIR, default ./data), the order ids and ' +
          "client order ids of every gateway (carried in the journal's place records), the audit file (gateways' events " +
          "arrive through PostgreSQL's audit_inbox), the query tables, the market data pipeline's storage and, " +
          'with NATS_URL and REDIS_URL, the events and market data on JetStream and the latest prices in Redis ' +
          '(one writer per venue), and the internal port (docs/internal-transport.md). Needs ' +
          `PostgreSQL (DATABASE_URL). Gateways authenticate with the shared secret in ${SECRET_ENV} ` +
          '(required in production, at least 32 characters). A first run sets up the configured assets and ' +
          'instruments and prints an admin API key once. The internal port also answers GET /health, ' +
          "/ready and /metrics (behind RIALTO_METRICS_TOKEN when set). SIGTERM or SIGINT closes the gateways' connections (they reconnect to the next engine), " +
          'writes a snapshot and exits 0. Logs are JSON lines on stdout.',
      )
      .addOption(
        new Option('--listen <host:port>', 'the internal port (port 0: any free one)')
          .env('RIALTO_ENGINE_LISTEN')
          .default(ENGINE_LISTEN_DEFAULT),
      ),
  ).action(async (opts: ServeOptions & { listen: string }) => runEngine(opts, io));

  withServeOptions(
    program
      .command('gateway')
      .summary('run a stateless gateway (REST and WebSocket APIs) in front of `rialto engine`')
      .description(
        'Run a gateway: the REST and WebSocket APIs on HOST:PORT (PORT and HOST as for `rialto start`, or ' +
          "--port and --host) over the engine at --engine. It catches up from the engine's journal through " +
          "the internal port, checks its state hash against the engine's, then follows every durable batch; " +
          'while the engine is unreachable /ready answers 503 and it reconnects with back-off, resuming where ' +
          "it stopped. Order ids and client order ids are the engine's, so a retry through any gateway finds " +
          'the same order. Any number of gateways can run at once. Needs PostgreSQL (DATABASE_URL), shared ' +
          `with the engine; the internal port's secret comes from ${SECRET_ENV}. Candles and ticks are read ` +
          "from what the engine stores; the live candles: channels come from the gateway's own in-memory " +
          'pipeline (the same bars). SIGTERM or SIGINT drains requests and exits 0.',
      )
      .addOption(
        new Option('--engine <host:port>', "the engine's internal port").env('RIALTO_ENGINE_ADDRESS'),
      )
      .option('--host <host>', "listen on this address (default: the configuration's, HOST)")
      .option('--port <port>', "listen on this port (0: any free one; default: the configuration's, PORT)"),
  ).action(async (opts: ServeOptions & { engine?: string; host?: string; port?: string }) =>
    runGateway(opts, io),
  );
}
