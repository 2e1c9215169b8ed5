/**
 * The pipeline's counters: per stage what came in, went out and was dead-lettered, and ticks by quality flag.
 * A plain object, read as a snapshot (`/metrics` reads it at each scrape: rialto_md_*). Conservation, which the tests check:
 * raw in = normalize out + dead-lettered by normalize; and so on down the stages.
 */
export interface StageCounters {
  in: number;
  out: number;
  deadLettered: number;
}

export interface PipelineCounters {
  raw: StageCounters;
  normalize: StageCounters;
  enrich: StageCounters;
  /** in: trades offered to the bars; out: accepted into them; skipped: kept out by a flag; late: dropped behind the horizon. */
  aggregate: StageCounters & {
    skipped: number;
    late: number;
    barsClosed: number;
    barsCorrected: number;
  };
  project: StageCounters;
  flags: {
    valid: number;
    price_negative: number;
    out_of_range: number;
    volume_spike: number;
    late_arrival: number;
    missing_metadata: number;
    duplicate: number;
  };
}

const stage = (): StageCounters => ({ in: 0, out: 0, deadLettered: 0 });

export function newCounters(): PipelineCounters {
  return {
    raw: stage(),
    normalize: stage(),
    enrich: stage(),
    aggregate: { ...stage(), skipped: 0, late: 0, barsClosed: 0, barsCorrected: 0 },
    project: stage(),
    flags: {
      valid: 0,
      price_negative: 0,
      out_of_range: 0,
      volume_spike: 0,
      late_arrival: 0,
      missing_metadata: 0,
      duplicate: 0,
    },
  };
}

/** A deep copy, so that a reader's snapshot does not move under it. */
export function snapshotCounters(c: PipelineCounters): PipelineCounters {
  return structuredClone(c);
}
