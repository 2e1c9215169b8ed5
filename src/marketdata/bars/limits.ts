/**
 * Every bound of the bar aggregator, in one place. Buffers grow by doubling from their initial size up to
 * their maximum; past it the aggregator throws rather than forget or drop ticks silently.
 */
export const BAR_LIMITS = {
  /** Ticks held back for tick, volume and dollar bars until the watermark passes them. */
  reorderTicksInitial: 1024,
  reorderTicksMax: 1 << 24,
  /** Trade ids remembered to recognize duplicates (those of ticks not yet behind the watermark's horizon). */
  dedupIdsInitial: 1024,
  dedupIdsMax: 1 << 24,
  /** Bar specs of one aggregator. */
  specsMax: 16,
  /** A time bar's period divides a UTC day, so bars align to midnight. */
  secondsPerDay: 86_400,
} as const;

if (BAR_LIMITS.reorderTicksInitial > BAR_LIMITS.reorderTicksMax) throw new Error('BAR_LIMITS: reorder sizes');
if (BAR_LIMITS.dedupIdsInitial > BAR_LIMITS.dedupIdsMax) throw new Error('BAR_LIMITS: dedup sizes');
