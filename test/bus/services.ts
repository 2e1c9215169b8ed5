/**
 * The real NATS JetStream and PostgreSQL the transport tests run against (127.0.0.1, or NATS_URL and
 * TEST_DATABASE_URL). Each test gets its own stream and subject prefix (a random suffix) and its own schema;
 * `cleanup` deletes them, because other test runs share the servers.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import pg from 'pg';
import { decodeEnvelope, envelope, type Envelope, type IdempotentSink } from '../../src/bus/index.js';

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Names {
  readonly streamPrefix: string;
  readonly subjectPrefix: string;
}

export function uniqueNames(): Names {
  const id = `${process.pid}_${randomBytes(4).toString('hex')}`;
  return { streamPrefix: `T${id}_`, subjectPrefix: `t${id}.` };
}

/** Deletes every stream whose name starts with `prefix`; returns how many. */
export async function deleteStreams(prefix: string): Promise<number> {
  const nc = await connect({ servers: NATS_URL, timeout: 2000 });
  try {
    const jsm = await nc.jetstreamManager();
    let n = 0;
    for await (const name of jsm.streams.names()) {
      if (!name.startsWith(prefix)) continue;
      await jsm.streams.delete(name);
      n++;
    }
    return n;
  } finally {
    await nc.close();
  }
}

/** Every message of a stream, as envelopes, in stream order. */
export async function streamMessages(stream: string): Promise<{ subject: string; m: Envelope }[]> {
  const nc = await connect({ servers: NATS_URL, timeout: 2000 });
  try {
    const jsm = await nc.jetstreamManager();
    const info = await jsm.streams.info(stream);
    const out: { subject: string; m: Envelope }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const sm = await jsm.streams.getMessage(stream, { seq });
      const m = decodeEnvelope(sm.data);
      if (typeof m === 'string') throw new Error(`${stream} #${seq}: ${m}`);
      out.push({ subject: sm.subject, m });
    }
    return out;
  } finally {
    await nc.close();
  }
}

export function tickMessage(i: number): Envelope<{ instrument: string; price: number; seq: number }> {
  const id = `test:${i}`;
  return envelope({
    event_type: 'TickNormalized',
    event_id: id,
    timestamp: new Date(Date.UTC(2024, 0, 2, 9) + i).toISOString(),
    source: 'test',
    version: 1,
    correlation_id: id,
    causation_id: null,
    payload: { instrument: `SYM${i % 3}`, price: 10_000 + i, seq: i },
  });
}

export const until = async (
  what: string,
  ok: () => boolean | Promise<boolean>,
  ms = 20_000,
): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/**
 * A small idempotent sink into a real PostgreSQL table of its own schema: one row per event, `ON CONFLICT
 * (event_id) DO NOTHING`. It counts every event it was asked to write, so that a test can tell deliveries
 * (at least once) from rows (exactly once).
 */
export class PostgresTestSink implements IdempotentSink {
  readonly schema = `rialto_bus_${process.pid}_${randomBytes(4).toString('hex')}`;
  private readonly pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 4 });
  written = 0;
  inserted = 0;

  async open(): Promise<this> {
    await this.pool.query(`CREATE SCHEMA ${this.schema}`);
    await this.pool.query(
      `CREATE TABLE ${this.schema}.ticks (event_id text PRIMARY KEY, instrument text NOT NULL,
        price bigint NOT NULL, seq integer NOT NULL)`,
    );
    return this;
  }

  async write(batch: readonly Envelope[]): Promise<number> {
    this.written += batch.length;
    const p = batch.map((m) => m.payload as { instrument: string; price: number; seq: number });
    const r = await this.pool.query(
      `INSERT INTO ${this.schema}.ticks (event_id, instrument, price, seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::integer[])
       ON CONFLICT (event_id) DO NOTHING`,
      [batch.map((m) => m.event_id), p.map((x) => x.instrument), p.map((x) => x.price), p.map((x) => x.seq)],
    );
    const n = r.rowCount ?? 0;
    this.inserted += n;
    return n;
  }

  async rows(): Promise<{ count: number; distinct: number; seqs: number[] }> {
    const r = await this.pool.query<{ seq: number }>(`SELECT seq FROM ${this.schema}.ticks ORDER BY seq`);
    const d = await this.pool.query<{ n: string }>(
      `SELECT count(DISTINCT event_id) AS n FROM ${this.schema}.ticks`,
    );
    return { count: r.rows.length, distinct: Number(d.rows[0].n), seqs: r.rows.map((x) => x.seq) };
  }

  async close(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await this.pool.end();
  }
}

/** The storage bound (max_bytes) of a stream. */
export async function streamMaxBytes(stream: string): Promise<number> {
  const nc = await connect({ servers: NATS_URL, timeout: 2000 });
  try {
    return (await (await nc.jetstreamManager()).streams.info(stream)).config.max_bytes;
  } finally {
    await nc.close();
  }
}
