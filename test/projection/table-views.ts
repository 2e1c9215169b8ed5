/**
 * Rows of the query tables (src/projection) read back as the gateway's views, so that a test can render them
 * with the gateway's own presenters and compare them with the REST API's answers.
 */
import type { OrderView, TradeView } from '../../src/gateway/views/index.js';

const n = (v: unknown): number => Number(v);

export function orderView(r: Record<string, unknown>): OrderView {
  return {
    orderId: n(r.order_id),
    instrument: n(r.instrument),
    accountId: n(r.account_id),
    side: n(r.side) as OrderView['side'],
    type: n(r.order_type) as OrderView['type'],
    tif: n(r.tif) as OrderView['tif'],
    priceTicks: n(r.price_ticks),
    triggerPriceTicks: n(r.trigger_price_ticks),
    expireTimeUs: n(r.expire_time_us),
    qtyLots: n(r.qty_lots),
    filledLots: n(r.filled_lots),
    remainingLots: n(r.remaining_lots),
    notional: BigInt(String(r.notional)),
    settledMinor: n(r.settled_minor),
    status: String(r.status) as OrderView['status'],
    rejectCode: n(r.reject_code),
    cancelReason: n(r.cancel_reason),
    createdUs: n(r.created_us),
    updatedUs: n(r.updated_us),
    updatedSeq: n(r.updated_seq),
  };
}

export function tradeView(r: Record<string, unknown>): TradeView {
  return {
    tradeId: n(r.trade_id),
    instrument: n(r.instrument),
    priceTicks: n(r.price_ticks),
    qtyLots: n(r.qty_lots),
    aggressorSide: n(r.aggressor_side) as TradeView['aggressorSide'],
    takerOrderId: n(r.taker_order_id),
    makerOrderId: n(r.maker_order_id),
    takerAccountId: n(r.taker_account_id),
    makerAccountId: n(r.maker_account_id),
    timeUs: n(r.time_us),
    seq: n(r.seq),
    buyerPaidMinor: n(r.buyer_paid_minor),
    sellerNetMinor: n(r.seller_net_minor),
  };
}
