/**
 * The double-entry ledger: integer minor units per asset, over the chart of accounts in chart.ts.
 *
 * Every change of money is one entry whose lines balance per asset (debits equal credits). Balances are kept
 * signed, debit positive, in one Float64Array, so a customer's liability reads negative here and positive in
 * reports. An entry is built with begin/debit/credit/commit and committed whole: a line set that does not
 * balance, a customer balance that would go negative or an amount outside the safe-integer range is a broken
 * invariant of the caller (the core checks funds before it posts), so commit undoes the lines and throws.
 *
 * Committed entries are written as records into the sink (the core's event buffer): the ledger keeps balances,
 * and the history of entries is a projection of the event stream (history.ts).
 */
import { IntMap, type SnapshotReader, type SnapshotWriter } from '../collections/index.js';
import { AccountClass, EntryKind, LedgerAccountKind, classOfKind, isDebitNormal } from './chart.js';
import * as records from './records.js';

// Module-local copies of the record layout: V8 reads an imported binding through its module cell on every use
// (a hole check, and a map check and a load for an object), and compiles a module-local constant to an
// immediate. The order path's records use a dozen of them per entry.
const ENTRY_HEADER_LINES = records.ENTRY_HEADER_LINES;
const ENTRY_LINES_PER_RECORD = records.ENTRY_LINES_PER_RECORD;
const ENTRY_LINES_MAX = records.ENTRY_LINES_MAX;
const L_ENTRY_ID = records.L_ENTRY_ID;
const L_FIRST_LINE = records.L_FIRST_LINE;
const E_ENTRY_ID = records.E_ENTRY_ID;
const E_FIRST_LINE = records.E_FIRST_LINE;
const E_KIND = records.E_KIND;
const E_LINE_COUNT = records.E_LINE_COUNT;
const E_REF = records.E_REF;
const E_REF2 = records.E_REF2;
const E_TIME = records.E_TIME;
const H_AMOUNT = records.H_AMOUNT;
const H_AVAILABLE = records.H_AVAILABLE;
const S_BASE = records.S_BASE;
const S_BUYER_BASE = records.S_BUYER_BASE;
const S_BUYER_QUOTE = records.S_BUYER_QUOTE;
const S_BUY_ORDER = records.S_BUY_ORDER;
const S_ENTRY_ID = records.S_ENTRY_ID;
const S_FEE_INCOME = records.S_FEE_INCOME;
const S_INCOME = records.S_INCOME;
const S_REBATES = records.S_REBATES;
const S_REFUND = records.S_REFUND;
const S_RELEASE = records.S_RELEASE;
const S_SELLER_BASE = records.S_SELLER_BASE;
const S_SELLER_NET = records.S_SELLER_NET;
const S_SELLER_QUOTE = records.S_SELLER_QUOTE;
const S_SELL_ORDER = records.S_SELL_ORDER;
const S_TIME = records.S_TIME;
const RecordType = Object.freeze({ ...records.RecordType });
const HOLD = EntryKind.Hold;

/** Where committed entries go: the core's event buffer (structurally; the ledger does not import the book). */
export interface EntrySink {
  data: Float64Array;
  reserve(): number;
}

export const LEDGER_LIMITS = Object.freeze({
  /** Asset ids are 0 .. assetsMax - 1. */
  assetsMax: 1024,
  /** Customer ids are 1 .. customersMax. */
  customersMax: 1 << 30,
  accountsInitial: 1024,
  accountsMax: 1 << 24,
});

const VENUE_KINDS: readonly LedgerAccountKind[] = [
  LedgerAccountKind.Custody,
  LedgerAccountKind.Clearing,
  LedgerAccountKind.FeeIncome,
  LedgerAccountKind.RebateExpense,
];

export interface LedgerAccountInfo {
  account: number;
  kind: LedgerAccountKind;
  cls: AccountClass;
  asset: number;
  /** The customer for customer accounts, else 0. */
  customer: number;
}

export class Ledger {
  // Initialized where declared (not in the constructor), so that V8 knows these fields hold typed arrays: see
  // Positions.
  private balances = new Float64Array(LEDGER_LIMITS.accountsInitial);
  private kinds = new Uint8Array(LEDGER_LIMITS.accountsInitial);
  private assets = new Int32Array(LEDGER_LIMITS.accountsInitial);
  private customers = new Float64Array(LEDGER_LIMITS.accountsInitial);
  private accountCount = 0;
  /** Venue accounts: the first of four consecutive ids per asset (custody, clearing, fee income, rebates). */
  private readonly venueBase = new Int32Array(LEDGER_LIMITS.assetsMax).fill(-1);
  /** customer × assetsMax + asset → the customer's available account; held is the next id. */
  private readonly customerIndex = new IntMap(1024);
  private readonly assetList: number[] = [];

  private entries = 0;
  // The entry being built.
  private building = false;
  private entryKind: EntryKind = EntryKind.Deposit;
  private entryRef = 0;
  private entryRef2 = 0;
  private entryTimeUs = 0;
  private readonly lineAccounts = new Int32Array(ENTRY_LINES_MAX);
  private readonly lineAmounts = new Float64Array(ENTRY_LINES_MAX);
  private lineCount = 0;

  // Defined by the constructor's assignment, not as an ES2022 class field (undefined first, after which V8
  // checked the sink's map at every record).
  declare private readonly sink: EntrySink;

  constructor(sink: EntrySink) {
    this.sink = sink;
  }

  // ------------------------------------------------------------- accounts

  /** Opens the venue's accounts for an asset; a no-op for an asset it has. */
  addAsset(asset: number): void {
    if (!isAssetId(asset)) throw new Error(`asset id ${asset} is outside 0..${LEDGER_LIMITS.assetsMax - 1}`);
    if (this.venueBase[asset] !== -1) return;
    this.venueBase[asset] = this.accountCount;
    for (const kind of VENUE_KINDS) this.open(kind, asset, 0);
    this.assetList.push(asset);
  }

  hasAsset(asset: number): boolean {
    return isAssetId(asset) && this.venueBase[asset] !== -1;
  }

  /** The assets in the order they were added. */
  assetIds(): readonly number[] {
    return this.assetList;
  }

  venueAccount(kind: LedgerAccountKind, asset: number): number {
    const base = this.venueBase[asset];
    if (base === -1 || base === undefined) throw new Error(`no such asset: ${asset}`);
    // VENUE_KINDS lists kinds 1..4 in order, so the offset is the kind less one.
    return base + kind - LedgerAccountKind.Custody;
  }

  /** The customer's available account for the asset, opened (with its held account) on first use. */
  customerAccount(customer: number, asset: number): number {
    const key = customer * LEDGER_LIMITS.assetsMax + asset;
    const found = this.customerIndex.get(key);
    if (found !== -1) return found;
    if (!this.hasAsset(asset)) throw new Error(`no such asset: ${asset}`);
    if (!(Number.isSafeInteger(customer) && customer >= 1 && customer <= LEDGER_LIMITS.customersMax)) {
      throw new Error(`customer id ${customer} is out of range`);
    }
    const available = this.open(LedgerAccountKind.CustomerAvailable, asset, customer);
    this.open(LedgerAccountKind.CustomerHeld, asset, customer);
    this.customerIndex.set(key, available);
    return available;
  }

  /** The customer's available account for the asset, or -1 when it has never been used. */
  findCustomerAccount(customer: number, asset: number): number {
    return this.customerIndex.get(customer * LEDGER_LIMITS.assetsMax + asset);
  }

  /** What the venue owes the customer in the asset and the customer may use. */
  available(customer: number, asset: number): number {
    const a = this.findCustomerAccount(customer, asset);
    return a === -1 || this.balances[a] === 0 ? 0 : -this.balances[a];
  }

  /** What is set aside for the customer's open orders in the asset. */
  held(customer: number, asset: number): number {
    const a = this.findCustomerAccount(customer, asset);
    return a === -1 || this.balances[a + 1] === 0 ? 0 : -this.balances[a + 1];
  }

  /** The balance on the account's normal side: positive for what an account of its class usually carries. */
  naturalBalance(account: number): number {
    const b = this.balances[account];
    const normal = isDebitNormal(classOfKind(this.kinds[account] as LedgerAccountKind)) ? b : -b;
    return normal === 0 ? 0 : normal; // no -0 in reports
  }

  /** The signed balance, debits positive. */
  signedBalance(account: number): number {
    return this.balances[account];
  }

  get size(): number {
    return this.accountCount;
  }

  get entryCount(): number {
    return this.entries;
  }

  info(account: number): LedgerAccountInfo {
    if (!(account >= 0 && account < this.accountCount)) throw ledgerError('no such ledger account:', account);
    const kind = this.kinds[account] as LedgerAccountKind;
    return {
      account,
      kind,
      cls: classOfKind(kind),
      asset: this.assets[account],
      customer: this.customers[account],
    };
  }

  /** Sum of all signed balances of an asset: zero at all times, by double entry. */
  assetSum(asset: number): number {
    let sum = 0;
    for (let a = 0; a < this.accountCount; a++) if (this.assets[a] === asset) sum += this.balances[a];
    return sum;
  }

  private open(kind: LedgerAccountKind, asset: number, customer: number): number {
    if (this.accountCount === this.balances.length) this.grow();
    const a = this.accountCount++;
    this.kinds[a] = kind;
    this.assets[a] = asset;
    this.customers[a] = customer;
    return a;
  }

  private grow(): void {
    const n = this.balances.length * 2;
    if (n > LEDGER_LIMITS.accountsMax)
      throw new Error(`the ledger holds at most ${LEDGER_LIMITS.accountsMax} accounts`);
    const balances = new Float64Array(n);
    balances.set(this.balances);
    this.balances = balances;
    const kinds = new Uint8Array(n);
    kinds.set(this.kinds);
    this.kinds = kinds;
    const assets = new Int32Array(n);
    assets.set(this.assets);
    this.assets = assets;
    const customers = new Float64Array(n);
    customers.set(this.customers);
    this.customers = customers;
  }

  // ------------------------------------------------------------- entries

  /** Starts an entry. `ref` and `ref2` name what caused it (an order and a trade, a deposit's reference). */
  begin(kind: EntryKind, ref: number, ref2: number, timeUs: number): void {
    if (this.building) throw new Error('ledger: begin inside an open entry');
    this.building = true;
    this.entryKind = kind;
    this.entryRef = ref;
    this.entryRef2 = ref2;
    this.entryTimeUs = timeUs;
    this.lineCount = 0;
  }

  /** Adds a debit line; a zero amount adds nothing. */
  debit(account: number, amount: number): void {
    if (amount !== 0) this.line(account, amount);
  }

  /** Adds a credit line; a zero amount adds nothing. */
  credit(account: number, amount: number): void {
    if (amount !== 0) this.line(account, -amount);
  }

  private line(account: number, signed: number): void {
    if (!this.building) throw new Error('ledger: a line outside an entry');
    if (this.lineCount === ENTRY_LINES_MAX) throw new Error(`ledger: more than ${ENTRY_LINES_MAX} lines`);
    if (!Number.isSafeInteger(signed)) throw new Error(`ledger: amount ${signed} is not a safe integer`);
    if (!(account >= 0 && account < this.accountCount)) throw new Error(`ledger: no such account ${account}`);
    this.lineAccounts[this.lineCount] = account;
    this.lineAmounts[this.lineCount] = signed;
    this.lineCount++;
  }

  /** Applies the entry and writes it to the sink. Returns its id, or 0 when it had no lines. */
  commit(): number {
    if (!this.building) throw new Error('ledger: commit without begin');
    this.building = false;
    const n = this.lineCount;
    if (n === 0) return 0;
    this.assertBalanced();
    const balances = this.balances;
    for (let i = 0; i < n; i++) balances[this.lineAccounts[i]] += this.lineAmounts[i];
    const problem = this.balanceProblem();
    if (problem !== '') {
      for (let i = 0; i < n; i++) balances[this.lineAccounts[i]] -= this.lineAmounts[i];
      throw new Error(`ledger: entry kind ${this.entryKind} ref ${this.entryRef}: ${problem}`);
    }
    const id = ++this.entries;
    this.write(id);
    return id;
  }

  /** Debits equal credits per asset. Entries span at most two assets, so a pairwise scan is cheap. */
  private assertBalanced(): void {
    const n = this.lineCount;
    if (n < 2) throw new Error(`ledger: an entry needs two lines, got ${n}`);
    for (let i = 0; i < n; i++) {
      const asset = this.assets[this.lineAccounts[i]];
      let first = true;
      for (let j = 0; j < i; j++) {
        if (this.assets[this.lineAccounts[j]] === asset) {
          first = false;
          break;
        }
      }
      if (!first) continue;
      let sum = 0;
      for (let j = i; j < n; j++) if (this.assets[this.lineAccounts[j]] === asset) sum += this.lineAmounts[j];
      if (sum !== 0)
        throw new Error(`ledger: entry kind ${this.entryKind} does not balance in asset ${asset}: ${sum}`);
    }
  }

  /** A customer balance below zero or any balance outside the safe range, after the lines are applied. */
  private balanceProblem(): string {
    for (let i = 0; i < this.lineCount; i++) {
      const a = this.lineAccounts[i];
      const b = this.balances[a];
      if (!Number.isSafeInteger(b)) return `balance of account ${a} leaves the safe-integer range`;
      if (this.kinds[a] >= LedgerAccountKind.CustomerAvailable && b > 0) {
        return `customer account ${a} would go negative (${-b})`;
      }
    }
    return '';
  }

  private write(id: number): void {
    const sink = this.sink;
    const n = this.lineCount;
    let o = sink.reserve();
    let d = sink.data;
    d[o] = RecordType.EntryPosted;
    d[o + E_ENTRY_ID] = id;
    d[o + E_TIME] = this.entryTimeUs;
    d[o + E_KIND] = this.entryKind;
    d[o + E_REF] = this.entryRef;
    d[o + E_REF2] = this.entryRef2;
    d[o + E_LINE_COUNT] = n;
    d[o + 7] = 0;
    const head = Math.min(n, ENTRY_HEADER_LINES);
    for (let i = 0; i < ENTRY_HEADER_LINES; i++) {
      d[o + E_FIRST_LINE + 2 * i] = i < head ? this.lineAccounts[i] : 0;
      d[o + E_FIRST_LINE + 2 * i + 1] = i < head ? this.lineAmounts[i] : 0;
    }
    for (let start = head; start < n; start += ENTRY_LINES_PER_RECORD) {
      o = sink.reserve();
      d = sink.data;
      d[o] = RecordType.EntryLines;
      d[o + L_ENTRY_ID] = id;
      for (let i = 0; i < ENTRY_LINES_PER_RECORD; i++) {
        const k = start + i;
        d[o + L_FIRST_LINE + 2 * i] = k < n ? this.lineAccounts[k] : 0;
        d[o + L_FIRST_LINE + 2 * i + 1] = k < n ? this.lineAmounts[k] : 0;
      }
    }
  }

  // ------------------------------------------------------------- the order path's entries

  /**
   * A hold (kind Hold: available to held) or its release (kind Release: held to available) of `amount` for
   * an order: the two-line entry of the order path, applied and written as one compact record. The lines
   * balance by construction; what is checked is that the debited account stays non-negative.
   */
  moveHeld(kind: EntryKind, orderId: number, available: number, amount: number, timeUs: number): number {
    if (this.building) throw new Error('ledger: a hold inside an open entry');
    const b = this.balances;
    const from = kind === HOLD ? available : available + 1;
    const to = kind === HOLD ? available + 1 : available;
    if (!(amount > 0 && Number.isSafeInteger(amount))) throw ledgerError('hold amount', amount);
    if (b[from] + amount > 0) throw ledgerError('account', from, 'would go negative (order', orderId, ')');
    b[from] += amount;
    b[to] -= amount;
    const id = ++this.entries;
    const o = this.sink.reserve();
    const d = this.sink.data;
    d[o] = RecordType.HoldPosted;
    d[o + E_ENTRY_ID] = id;
    d[o + E_TIME] = timeUs;
    d[o + E_KIND] = kind;
    d[o + E_REF] = orderId;
    d[o + H_AVAILABLE] = available;
    d[o + H_AMOUNT] = amount;
    return id;
  }

  /**
   * A trade's settlement as one entry of up to eight lines, applied and written as one compact record (see
   * records.ts for its fields): the buyer's held quote pays the value and the buyer's fee and refunds the
   * rest; the seller's held base goes to the buyer; the seller receives the value less the seller's fee; fees
   * go to fee income and rebates come from rebate expense. Accounts are available accounts (held is +1) and
   * the quote asset's fee income account (rebate expense is +1).
   */
  settle(
    buyOrderId: number,
    sellOrderId: number,
    buyerQuote: number,
    release: number,
    refund: number,
    sellerQuote: number,
    sellerNet: number,
    sellerBase: number,
    base: number,
    buyerBase: number,
    feeIncome: number,
    income: number,
    rebates: number,
    timeUs: number,
  ): number {
    // Quote: debits (release, rebates) equal credits (refund, seller's net, income). Base moves whole. The
    // errors are built out of line, so that this method stays small enough for V8 to inline into its caller.
    if (release + rebates !== refund + sellerNet + income || refund < 0 || sellerNet < 0 || base <= 0) {
      throw settlementError(buyOrderId, sellOrderId, 'does not balance');
    }
    const b = this.balances;
    if (b[buyerQuote + 1] + release > 0 || b[sellerBase + 1] + base > 0) {
      throw settlementError(buyOrderId, sellOrderId, 'exceeds the holds');
    }
    if (this.building) throw settlementError(buyOrderId, sellOrderId, 'inside an open entry');
    b[buyerQuote + 1] += release;
    b[buyerQuote] -= refund;
    b[sellerQuote] -= sellerNet;
    b[sellerBase + 1] += base;
    b[buyerBase] -= base;
    b[feeIncome] -= income;
    b[feeIncome + 1] += rebates;
    if (!Number.isSafeInteger(b[feeIncome]) || !Number.isSafeInteger(b[feeIncome + 1])) {
      throw settlementError(buyOrderId, sellOrderId, 'takes fee income out of the safe-integer range');
    }
    const id = ++this.entries;
    this.writeSettlement(
      id,
      buyOrderId,
      sellOrderId,
      buyerQuote,
      release,
      refund,
      sellerQuote,
      sellerNet,
      sellerBase,
      base,
      buyerBase,
      feeIncome,
      income,
      rebates,
      timeUs,
    );
    return id;
  }

  /** A settlement's record (apart from settle, so that each of the two stays small enough to be inlined). */
  private writeSettlement(
    id: number,
    buyOrderId: number,
    sellOrderId: number,
    buyerQuote: number,
    release: number,
    refund: number,
    sellerQuote: number,
    sellerNet: number,
    sellerBase: number,
    base: number,
    buyerBase: number,
    feeIncome: number,
    income: number,
    rebates: number,
    timeUs: number,
  ): void {
    const o = this.sink.reserve();
    const d = this.sink.data;
    d[o] = RecordType.SettlementPosted;
    d[o + S_ENTRY_ID] = id;
    d[o + S_TIME] = timeUs;
    d[o + S_BUY_ORDER] = buyOrderId;
    d[o + S_SELL_ORDER] = sellOrderId;
    d[o + S_BUYER_QUOTE] = buyerQuote;
    d[o + S_RELEASE] = release;
    d[o + S_REFUND] = refund;
    d[o + S_SELLER_QUOTE] = sellerQuote;
    d[o + S_SELLER_NET] = sellerNet;
    d[o + S_SELLER_BASE] = sellerBase;
    d[o + S_BASE] = base;
    d[o + S_BUYER_BASE] = buyerBase;
    d[o + S_FEE_INCOME] = feeIncome;
    d[o + S_INCOME] = income;
    d[o + S_REBATES] = rebates;
  }

  /**
   * Checks the ledger's standing invariants over every account: each asset sums to zero, no customer
   * balance is negative, every balance is a safe integer. Returns '' or what is wrong; for audits and tests.
   */
  audit(): string {
    const sums = new Float64Array(LEDGER_LIMITS.assetsMax);
    for (let a = 0; a < this.accountCount; a++) {
      const b = this.balances[a];
      if (!Number.isSafeInteger(b)) return `account ${a}: balance ${b} is not a safe integer`;
      if (this.kinds[a] >= LedgerAccountKind.CustomerAvailable && b > 0)
        return `account ${a}: negative balance ${-b}`;
      sums[this.assets[a]] += b;
    }
    for (const asset of this.assetList) if (sums[asset] !== 0) return `asset ${asset} sums to ${sums[asset]}`;
    return '';
  }

  // ------------------------------------------------------------- state

  /**
   * Writes the ledger's state as it is: accounts (balance, kind, asset, customer) up to the count, the assets
   * with their venue accounts, the customer index table and the entry counter. Only between entries.
   */
  writeSnapshot(w: SnapshotWriter): void {
    if (this.building) throw new Error('ledger: snapshot inside an open entry');
    const n = this.accountCount;
    w.tag('LDGR');
    w.u32(this.balances.length);
    w.f64s(this.balances, n);
    w.u8s(this.kinds, n);
    w.i32s(this.assets, n);
    w.f64s(this.customers, n);
    w.u32(this.assetList.length);
    for (const asset of this.assetList) {
      w.i32(asset);
      w.i32(this.venueBase[asset]);
    }
    this.customerIndex.writeSnapshot(w);
    w.f64(this.entries);
  }

  /** Replaces this ledger's state with one written by writeSnapshot; entries go on into this ledger's sink. */
  readSnapshot(r: SnapshotReader): void {
    r.tag('LDGR');
    const capacity = r.count('ledger capacity', LEDGER_LIMITS.accountsMax);
    if (capacity < 1) r.fail('ledger of no capacity');
    this.balances = new Float64Array(capacity);
    this.kinds = new Uint8Array(capacity);
    this.assets = new Int32Array(capacity);
    this.customers = new Float64Array(capacity);
    const n = r.f64sInto(this.balances, 'balances');
    r.u8sExact(this.kinds, n, 'account kinds');
    r.i32sExact(this.assets, n, 'account assets');
    r.f64sExact(this.customers, n, 'account customers');
    this.accountCount = n;
    this.venueBase.fill(-1);
    this.assetList.length = 0;
    const assets = r.count('assets', LEDGER_LIMITS.assetsMax);
    for (let i = 0; i < assets; i++) {
      const asset = r.int('asset', 0, LEDGER_LIMITS.assetsMax - 1);
      const base = r.int('venue accounts', 0, n - VENUE_KINDS.length);
      if (this.venueBase[asset] !== -1) r.fail(`asset ${asset} twice`);
      this.venueBase[asset] = base;
      this.assetList.push(asset);
    }
    this.customerIndex.readSnapshot(r);
    this.entries = r.safeInt('entry count', 0);
    this.building = false;
    this.lineCount = 0;
    const problem = this.accountsProblem();
    if (problem !== '') r.fail(`ledger: ${problem}`);
  }

  /** Whether every account has a kind and an asset of the ledger, venue and customer accounts where indexed. */
  private accountsProblem(): string {
    for (let a = 0; a < this.accountCount; a++) {
      const kind = this.kinds[a];
      if (!(kind >= LedgerAccountKind.Custody && kind <= LedgerAccountKind.CustomerHeld))
        return `account ${a}: kind`;
      if (!this.hasAsset(this.assets[a])) return `account ${a}: asset ${this.assets[a]}`;
    }
    for (const asset of this.assetList) {
      for (const kind of VENUE_KINDS) {
        const a = this.venueAccount(kind, asset);
        if (this.kinds[a] !== kind || this.assets[a] !== asset) return `venue account ${a} of asset ${asset}`;
      }
    }
    let problem = '';
    this.customerIndex.forEach((a, key) => {
      const customer = Math.floor(key / LEDGER_LIMITS.assetsMax);
      const asset = key % LEDGER_LIMITS.assetsMax;
      const ok =
        a >= 0 &&
        a + 1 < this.accountCount &&
        this.kinds[a] === LedgerAccountKind.CustomerAvailable &&
        this.kinds[a + 1] === LedgerAccountKind.CustomerHeld &&
        this.customers[a] === customer &&
        this.assets[a] === asset;
      if (!ok && problem === '') problem = `customer index entry ${key}`;
    });
    return problem;
  }

  /** Every account's signed balance, in account order: what the state hash covers. */
  forEachBalance(
    fn: (account: number, kind: LedgerAccountKind, asset: number, customer: number, b: number) => void,
  ): void {
    for (let a = 0; a < this.accountCount; a++) {
      fn(a, this.kinds[a] as LedgerAccountKind, this.assets[a], this.customers[a], this.balances[a]);
    }
  }
}

function isAssetId(asset: number): boolean {
  return Number.isInteger(asset) && asset >= 0 && asset < LEDGER_LIMITS.assetsMax;
}

/**
 * A broken invariant's error, built out of line from its parts (joined with spaces, '/' and ')' without), so
 * that hot methods hold no template literal with a number: the optimizing compiler may convert the number on
 * every call, thrown or not (see core.ts `broken`).
 */
function settlementError(buyOrderId: number, sellOrderId: number, problem: string): Error {
  return ledgerError('settlement of orders', buyOrderId, '/', sellOrderId, problem);
}

function ledgerError(...parts: (string | number)[]): Error {
  return new Error(`ledger: ${parts.join(' ').replaceAll(' / ', '/').replaceAll(' )', ')')}`);
}
