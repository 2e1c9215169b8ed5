/**
 * Writing a batch of rows into the query tables: one transaction, one statement per table (the rows passed
 * as arrays and spread by unnest, so a statement's parameters do not grow with its rows), the checkpoint
 * moved first (which also locks it: a second projector of the same name waits, then finds it moved and
 * stops). Every row is absolute, so a batch written twice leaves the same rows.
 */
import type { Queryable, SqlValue, Store } from '../store/index.js';
import { LIVE_STATUSES, type OrderRow, type OrderStatus, type RowBatch } from './rows.js';

/** The checkpoint moved under this projector: another process writes the same tables. */
export class CheckpointConflict extends Error {
  override name = 'CheckpointConflict';
}

type Column = readonly [name: string, type: string, values: SqlValue];

/** INSERT INTO `table` the rows given column by column, then `tail` (an ON CONFLICT clause). */
async function insertColumns(
  tx: Queryable,
  table: string,
  columns: readonly Column[],
  tail: string,
): Promise<void> {
  const names = columns.map((c) => c[0]).join(', ');
  const arrays = columns.map((c, i) => `$${i + 1}::${c[1]}[]`).join(', ');
  await tx.query(
    `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) ${tail}`,
    columns.map((c) => c[2]),
  );
}

const ORDER_UPDATES = [
  'price_ticks',
  'qty_lots',
  'filled_lots',
  'remaining_lots',
  'notional',
  'settled_minor',
  'status',
  'cancel_reason',
  'updated_seq',
  'updated_us',
]
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ');

function orderColumns(rows: readonly OrderRow[]): Column[] {
  return [
    ['order_id', 'int8', rows.map((o) => o.orderId)],
    ['instrument', 'int4', rows.map((o) => o.instrument)],
    ['account_id', 'int8', rows.map((o) => o.accountId)],
    ['side', 'int2', rows.map((o) => o.side)],
    ['order_type', 'int2', rows.map((o) => o.orderType)],
    ['tif', 'int2', rows.map((o) => o.tif)],
    ['price_ticks', 'int8', rows.map((o) => o.priceTicks)],
    ['trigger_price_ticks', 'int8', rows.map((o) => o.triggerPriceTicks)],
    ['expire_time_us', 'int8', rows.map((o) => o.expireTimeUs)],
    ['qty_lots', 'int8', rows.map((o) => o.qtyLots)],
    ['filled_lots', 'int8', rows.map((o) => o.filledLots)],
    ['remaining_lots', 'int8', rows.map((o) => o.remainingLots)],
    ['notional', 'numeric', rows.map((o) => o.notional.toString())],
    ['settled_minor', 'int8', rows.map((o) => o.settledMinor)],
    ['status', 'text', rows.map((o) => o.status)],
    ['reject_code', 'int4', rows.map((o) => o.rejectCode)],
    ['cancel_reason', 'int2', rows.map((o) => o.cancelReason)],
    ['created_seq', 'int8', rows.map((o) => o.createdSeq)],
    ['created_us', 'int8', rows.map((o) => o.createdUs)],
    ['updated_seq', 'int8', rows.map((o) => o.updatedSeq)],
    ['updated_us', 'int8', rows.map((o) => o.updatedUs)],
  ];
}

/** The checkpoint of `projector`: the last command its tables hold (0: none). */
export async function readCheckpoint(db: Queryable, projector: string): Promise<number> {
  const rows = await db.query('SELECT last_seq FROM projection_checkpoints WHERE projector = $1', [
    projector,
  ]);
  return rows.length === 0 ? 0 : Number(rows[0].last_seq);
}

/**
 * Writes `batch` and moves the checkpoint from `batch.firstSeq - 1` to `batch.lastSeq`, in one transaction.
 * A checkpoint already at `lastSeq` is a retry of a batch whose commit was not heard of: its rows are
 * written again, unchanged. Any other checkpoint throws CheckpointConflict (nothing is written).
 */
export async function writeBatch(store: Store, projector: string, batch: RowBatch): Promise<void> {
  await store.transaction(async (tx) => {
    const moved = await tx.query(
      `INSERT INTO projection_checkpoints (projector, last_seq) VALUES ($1, $2)
         ON CONFLICT (projector) DO UPDATE SET last_seq = EXCLUDED.last_seq, updated_at = now()
         WHERE projection_checkpoints.last_seq IN ($3, $2)
       RETURNING last_seq`,
      [projector, batch.lastSeq, batch.firstSeq - 1],
    );
    if (moved.length === 0) {
      throw new CheckpointConflict(
        `the checkpoint of ${projector} is not at ${batch.firstSeq - 1}: another process projects into these tables`,
      );
    }
    await writeRows(tx, batch);
  });
}

async function writeRows(tx: Queryable, b: RowBatch): Promise<void> {
  if (b.assets.length > 0) {
    await insertColumns(
      tx,
      'assets',
      [
        ['asset', 'int4', b.assets.map((r) => r.asset)],
        ['code', 'text', b.assets.map((r) => r.code)],
        ['decimals', 'int2', b.assets.map((r) => r.decimals)],
        ['updated_seq', 'int8', b.assets.map((r) => r.updatedSeq)],
      ],
      `ON CONFLICT (asset) DO UPDATE SET code = EXCLUDED.code, decimals = EXCLUDED.decimals,
         updated_seq = EXCLUDED.updated_seq`,
    );
  }
  if (b.instruments.length > 0) {
    const r = b.instruments;
    const cols: Column[] = [
      ['instrument', 'int4', r.map((x) => x.instrument)],
      ['symbol', 'text', r.map((x) => x.symbol)],
      ['base_asset', 'int4', r.map((x) => x.baseAsset)],
      ['quote_asset', 'int4', r.map((x) => x.quoteAsset)],
      ['base_scale', 'int8', r.map((x) => x.baseScale)],
      ['quote_scale', 'int8', r.map((x) => x.quoteScale)],
      ['tick_size', 'int8', r.map((x) => x.tickSize)],
      ['lot_size', 'int8', r.map((x) => x.lotSize)],
      ['qty_min', 'int8', r.map((x) => x.qtyMin)],
      ['qty_max', 'int8', r.map((x) => x.qtyMax)],
      ['price_band_bps', 'int4', r.map((x) => x.priceBandBps)],
      ['reference_price_ticks', 'int8', r.map((x) => x.referencePriceTicks)],
      ['market_protection_bps', 'int4', r.map((x) => x.marketProtectionBps)],
      ['maker_fee_ppm', 'int4', r.map((x) => x.makerFeePpm)],
      ['taker_fee_ppm', 'int4', r.map((x) => x.takerFeePpm)],
      ['mark_method', 'int2', r.map((x) => x.markMethod)],
      ['halted', 'bool', r.map((x) => (x.halted ? 'true' : 'false'))],
      ['updated_seq', 'int8', r.map((x) => x.updatedSeq)],
    ];
    const set = cols
      .slice(1)
      .map((c) => `${c[0]} = EXCLUDED.${c[0]}`)
      .join(', ');
    await insertColumns(tx, 'instruments', cols, `ON CONFLICT (instrument) DO UPDATE SET ${set}`);
  }
  if (b.accounts.length > 0) {
    const r = b.accounts;
    await insertColumns(
      tx,
      'accounts',
      [
        ['account_id', 'int8', r.map((x) => x.accountId)],
        ['type', 'int2', r.map((x) => x.type)],
        ['status', 'int2', r.map((x) => x.status)],
        ['kill_switch', 'bool', r.map((x) => (x.killSwitch ? 'true' : 'false'))],
        // 0: created before this batch, so the row exists (and keeps its own).
        ['created_seq', 'int8', r.map((x) => (x.createdSeq === 0 ? x.updatedSeq : x.createdSeq))],
        ['updated_seq', 'int8', r.map((x) => x.updatedSeq)],
      ],
      `ON CONFLICT (account_id) DO UPDATE SET type = EXCLUDED.type, status = EXCLUDED.status,
         kill_switch = EXCLUDED.kill_switch, updated_seq = EXCLUDED.updated_seq`,
    );
  }
  if (b.orders.length > 0) {
    await insertColumns(
      tx,
      'orders',
      orderColumns(b.orders),
      `ON CONFLICT (order_id) DO UPDATE SET ${ORDER_UPDATES}`,
    );
  }
  if (b.rejected.length > 0) {
    // A refused place never replaces an order of the same id.
    await insertColumns(tx, 'orders', orderColumns(b.rejected), 'ON CONFLICT (order_id) DO NOTHING');
  }
  if (b.trades.length > 0) {
    const r = b.trades;
    await insertColumns(
      tx,
      'trades',
      [
        ['instrument', 'int4', r.map((x) => x.instrument)],
        ['trade_id', 'int8', r.map((x) => x.tradeId)],
        ['seq', 'int8', r.map((x) => x.seq)],
        ['time_us', 'int8', r.map((x) => x.timeUs)],
        ['price_ticks', 'int8', r.map((x) => x.priceTicks)],
        ['qty_lots', 'int8', r.map((x) => x.qtyLots)],
        ['aggressor_side', 'int2', r.map((x) => x.aggressorSide)],
        ['taker_order_id', 'int8', r.map((x) => x.takerOrderId)],
        ['maker_order_id', 'int8', r.map((x) => x.makerOrderId)],
        ['taker_account_id', 'int8', r.map((x) => x.takerAccountId)],
        ['maker_account_id', 'int8', r.map((x) => x.makerAccountId)],
        ['buyer_paid_minor', 'int8', r.map((x) => x.buyerPaidMinor)],
        ['seller_net_minor', 'int8', r.map((x) => x.sellerNetMinor)],
      ],
      'ON CONFLICT (instrument, trade_id) DO NOTHING',
    );
  }
  if (b.entries.length > 0) {
    const r = b.entries;
    await insertColumns(
      tx,
      'ledger_entries',
      [
        ['entry_id', 'int8', r.map((x) => x.entryId)],
        ['seq', 'int8', r.map((x) => x.seq)],
        ['time_us', 'int8', r.map((x) => x.timeUs)],
        ['kind', 'int2', r.map((x) => x.kind)],
        ['ref', 'int8', r.map((x) => x.ref)],
        ['ref2', 'int8', r.map((x) => x.ref2)],
        ['trade_id', 'int8', r.map((x) => x.tradeId)],
        ['instrument', 'int4', r.map((x) => x.instrument)],
      ],
      'ON CONFLICT (entry_id) DO NOTHING',
    );
    const p = r.flatMap((e) =>
      e.postings.map((l) => [e.entryId, l.line, l.ledgerAccount, l.amount] as const),
    );
    await insertColumns(
      tx,
      'ledger_postings',
      [
        ['entry_id', 'int8', p.map((x) => x[0])],
        ['line', 'int2', p.map((x) => x[1])],
        ['ledger_account', 'int4', p.map((x) => x[2])],
        ['amount', 'int8', p.map((x) => x[3])],
      ],
      'ON CONFLICT (entry_id, line) DO NOTHING',
    );
  }
  if (b.ledgerAccounts.length > 0) {
    const r = b.ledgerAccounts;
    await insertColumns(
      tx,
      'ledger_accounts',
      [
        ['ledger_account', 'int4', r.map((x) => x.ledgerAccount)],
        ['kind', 'int2', r.map((x) => x.kind)],
        ['asset', 'int4', r.map((x) => x.asset)],
        ['account_id', 'int8', r.map((x) => x.accountId)],
        ['balance', 'int8', r.map((x) => x.balance)],
        ['updated_seq', 'int8', r.map((x) => x.updatedSeq)],
      ],
      'ON CONFLICT (ledger_account) DO UPDATE SET balance = EXCLUDED.balance, updated_seq = EXCLUDED.updated_seq',
    );
  }
  if (b.balances.length > 0) {
    const r = b.balances;
    await insertColumns(
      tx,
      'balances',
      [
        ['account_id', 'int8', r.map((x) => x.accountId)],
        ['asset', 'int4', r.map((x) => x.asset)],
        ['available', 'int8', r.map((x) => x.available)],
        ['held', 'int8', r.map((x) => x.held)],
        ['updated_seq', 'int8', r.map((x) => x.updatedSeq)],
      ],
      `ON CONFLICT (account_id, asset) DO UPDATE SET available = EXCLUDED.available, held = EXCLUDED.held,
         updated_seq = EXCLUDED.updated_seq`,
    );
  }
}

const num = (v: unknown): number => {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`projection: expected a safe integer, got ${String(v)}`);
  return n;
};

/** The orders live at the checkpoint, as the table holds them (the mapper continues from them). */
export async function loadLiveOrders(db: Queryable): Promise<OrderRow[]> {
  const rows = await db.query(
    `SELECT order_id, instrument, account_id, side, order_type, tif, price_ticks, trigger_price_ticks,
            expire_time_us, qty_lots,
            filled_lots, remaining_lots, notional::text AS notional, settled_minor, status, reject_code,
            cancel_reason, created_seq, created_us, updated_seq, updated_us
       FROM orders WHERE status IN ('pending', 'partially_filled') ORDER BY order_id`,
  );
  return rows.map((r) => {
    const status = String(r.status) as OrderStatus;
    if (!LIVE_STATUSES.includes(status))
      throw new Error(`projection: order ${String(r.order_id)} is ${status}`);
    return {
      orderId: num(r.order_id),
      instrument: num(r.instrument),
      accountId: num(r.account_id),
      side: num(r.side),
      orderType: num(r.order_type),
      tif: num(r.tif),
      priceTicks: num(r.price_ticks),
      triggerPriceTicks: num(r.trigger_price_ticks),
      expireTimeUs: num(r.expire_time_us),
      qtyLots: num(r.qty_lots),
      filledLots: num(r.filled_lots),
      remainingLots: num(r.remaining_lots),
      notional: BigInt(String(r.notional)),
      settledMinor: num(r.settled_minor),
      status,
      rejectCode: num(r.reject_code),
      cancelReason: num(r.cancel_reason),
      createdSeq: num(r.created_seq),
      createdUs: num(r.created_us),
      updatedSeq: num(r.updated_seq),
      updatedUs: num(r.updated_us),
    };
  });
}
