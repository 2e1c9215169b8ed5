/**
 * The configuration repeats the domain's limits (ops imports nothing of the domain): they must stay equal,
 * a configured instrument must be a valid core InstrumentSpec, and a fresh core must accept the venue's setup.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { venueSetupCommands, venueSetupProblems } from '../../../src/cli/venue.js';
import {
  CORE_LIMITS,
  INSTRUMENT_DEFAULTS,
  INSTRUMENT_LIMITS,
  MarkMethod,
  type InstrumentSpec,
} from '../../../src/core/index.js';
import { ACCOUNT_ID_MAX } from '../../../src/gateway/index.js';
import { JETSTREAM_DEFAULTS, JETSTREAM_LIMITS } from '../../../src/bus/index.js';
import { LEDGER_LIMITS } from '../../../src/ledger/index.js';
import { REDIS_LATEST_DEFAULTS } from '../../../src/marketdata/index.js';
import {
  CONFIG_DEFAULTS,
  CONFIG_LIMITS,
  loadConfig,
  type InstrumentSpecConfig,
} from '../../../src/ops/index.js';

// A configured spec is a core spec, field for field (a compile-time check both ways).
const asCore = (s: InstrumentSpecConfig): InstrumentSpec => s;
const asConfig = (s: InstrumentSpec): Omit<InstrumentSpecConfig, 'markMethod'> => s;

describe('configuration limits', () => {
  it("equal the JetStream bus's and the Redis projection's defaults and bounds", () => {
    assert.equal(CONFIG_DEFAULTS.natsStreamPrefix, JETSTREAM_DEFAULTS.streamPrefix);
    assert.equal(CONFIG_DEFAULTS.natsDuplicateWindowSeconds * 1000, JETSTREAM_DEFAULTS.duplicateWindowMs);
    assert.equal(CONFIG_DEFAULTS.natsAckWaitSeconds * 1000, JETSTREAM_DEFAULTS.ackWaitMs);
    assert.equal(CONFIG_DEFAULTS.natsAckPendingMax, JETSTREAM_DEFAULTS.ackPendingMax);
    assert.equal(CONFIG_DEFAULTS.natsStreamMaxMegabytes * 1024 ** 2, JETSTREAM_DEFAULTS.streamMaxBytes);
    assert.equal(CONFIG_LIMITS.natsAckPendingMax, JETSTREAM_LIMITS.ackPendingMax);
    // The longest duplicate window fits the streams' maximum age, as the server requires.
    assert.ok(CONFIG_LIMITS.natsDuplicateWindowSecondsMax * 1000 <= JETSTREAM_DEFAULTS.streamMaxAgeMs);
    assert.equal(CONFIG_DEFAULTS.redisKeyPrefix, REDIS_LATEST_DEFAULTS.keyPrefix);
    assert.ok(CONFIG_LIMITS.natsStreamPrefixPattern.test(CONFIG_DEFAULTS.natsStreamPrefix));
    assert.ok(CONFIG_LIMITS.redisKeyPrefixPattern.test(CONFIG_DEFAULTS.redisKeyPrefix));
    assert.equal(CONFIG_DEFAULTS.natsSubjectPrefix, JETSTREAM_DEFAULTS.subjectPrefix);
    // Every subject prefix the configuration takes, the bus takes (its own check, in resolveOptions).
    for (const p of ['', 'rialto.', 'a-1.b_2.'])
      assert.ok(CONFIG_LIMITS.natsSubjectPrefixPattern.test(p) && /^([a-z0-9_-]+\.)*$/.test(p));
  });

  it("equal the core's, the ledger's and the book's", () => {
    assert.equal(CONFIG_LIMITS.assetsMax, LEDGER_LIMITS.assetsMax);
    assert.equal(CONFIG_LIMITS.assetDecimalsMax, CORE_LIMITS.assetDecimalsMax);
    assert.equal(CONFIG_LIMITS.instrumentsMax, INSTRUMENT_LIMITS.instrumentsMax);
    assert.equal(CONFIG_LIMITS.instrumentsMax, CORE_LIMITS.instrumentsMax);
    assert.equal(CONFIG_LIMITS.symbolLengthMax, INSTRUMENT_LIMITS.symbolLengthMax);
    assert.equal(CONFIG_LIMITS.feePpmMax, INSTRUMENT_LIMITS.feePpmMax);
    assert.equal(CONFIG_LIMITS.bandBpsMax, INSTRUMENT_LIMITS.bandBpsMax);
    assert.equal(CONFIG_LIMITS.protectionBpsMax, INSTRUMENT_LIMITS.protectionBpsMax);
    assert.equal(CONFIG_DEFAULTS.marketProtectionBps, INSTRUMENT_DEFAULTS.marketProtectionBps);
    assert.equal(ACCOUNT_ID_MAX, CORE_LIMITS.accountsMax);
    assert.equal(MarkMethod.LastTrade, 1);
    assert.equal(MarkMethod.Mid, 2);
    assert.equal(typeof asCore, 'function');
    assert.equal(typeof asConfig, 'function');
  });

  it('a fresh core accepts the default venue, and refuses nothing of it', () => {
    const r = loadConfig({ file: null, env: {}, cwd: '/' });
    assert.ok(r.ok);
    assert.deepEqual(venueSetupProblems(r.config), []);
    const cmds = venueSetupCommands(r.config, 5);
    assert.deepEqual(
      cmds.map((c) => c.kind),
      ['addAsset', 'addAsset', 'addAsset', 'defineInstrument', 'defineInstrument'],
    );
    assert.ok(cmds.every((c) => c.timeUs === 5));
  });
});
