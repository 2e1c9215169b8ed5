/**
 * `rialto start`: runs the venue until SIGTERM or SIGINT. It loads and checks the configuration (--config
 * FILE, else RIALTO_CONFIG, else ./rialto.yaml when present, else the defaults and the environment), starts
 * the engine on the data directory (its journal, snapshots and LOCK), the query store, the views, the market
 * data pipeline and the HTTP server (src/gateway/venue.ts), and prints the first admin key once, on a first run. A signal stops
 * it gracefully: no new connections, requests in flight finish (their commands durable), the engine writes
 * a snapshot, exit 0.
 */
import type { Command } from 'commander';
import type { Venue } from '../gateway/index.js';
import { CliError, type ProgramIo } from './cli-io.js';
import { loadCliConfig, startFailure, stopSignal, withServeOptions, type ServeOptions } from './serving.js';
import { venueSetupCommands, venueSetupProblems } from './venue.js';

async function start(opts: ServeOptions, io: ProgramIo): Promise<void> {
  let venue: Venue;
  try {
    const config = await loadCliConfig(opts, io);
    const refused = venueSetupProblems(config);
    if (refused.length > 0) throw new CliError(`the configuration is not valid:\n  ${refused.join('\n  ')}`);
    const stopping = stopSignal();
    // The venue's code (HTTP server, WebSocket gateway, views, store drivers) is loaded here, by the one
    // command that runs it, not by every `rialto` run.
    const { startVenue } = await import('../gateway/index.js');
    venue = await startVenue(config, { setup: venueSetupCommands(config, 0), log: true });
    if (venue.adminKey !== null) {
      io.stdout(
        `\nFirst run: an admin API key was created. It is shown only this once; keep it safe:\n\n` +
          `  ${venue.adminKey}\n\n` +
          `Send it as the X-API-Key header. Create trader keys with POST /api/v1/admin/keys (or, the venue stopped, \`rialto keys create\`).\n\n`,
      );
    }
    io.stdout(
      `rialto: venue listening on ${venue.url} (data ${config.dataDir}, ` +
        `${venue.replay.commands} journal records replayed in ${venue.replay.ms} ms)\n`,
    );
    const signal = await stopping;
    io.stderr(`rialto: ${signal}: stopping (draining requests, writing a snapshot)\n`);
    await venue.close();
    io.stderr('rialto: stopped\n');
  } catch (e) {
    throw await startFailure(e);
  }
}

export function addStartCommand(program: Command, io: ProgramIo): void {
  withServeOptions(program.command('start'))
    .summary('run the venue: engine, query store and the REST API, until SIGTERM or SIGINT')
    .description(
      'Run the venue: the engine on the data directory (journal, snapshots and LOCK; RIALTO_DATA_DIR, default ' +
        './data), the query store (PGlite in DATA_DIR/pglite, or PostgreSQL with DATABASE_URL), the views rebuilt ' +
        "from the journal, the market data pipeline (the trades' ticks and bars into the store; " +
        'RIALTO_MD_PIPELINE_ENABLED=false: off), and the REST API on HOST:PORT (default 0.0.0.0:8080; OpenAPI document at /docs, ' +
        '/health and /ready). A first run sets up the configured assets and instruments and prints an admin API ' +
        'key once; a later run sets up only what the journal does not have yet. SIGTERM or SIGINT stops it ' +
        'gracefully: no new requests, those in flight finish, the engine writes a snapshot, exit 0. Logs are ' +
        'JSON lines on stdout.',
    )
    .action(async (opts: ServeOptions) => start(opts, io));
}
