/**
 * One read of a slow source (the engine's worker) shared by every metric of a scrape, and bounded: a source
 * that fails or does not answer within `timeoutMs` gives null, and the metrics keep their last values rather
 * than failing or stalling the whole scrape.
 */
export class ScrapeRead<T> {
  private inFlight: Promise<T | null> | null = null;

  constructor(
    private readonly source: () => Promise<T> | T,
    private readonly timeoutMs: number,
  ) {}

  read(): Promise<T | null> {
    this.inFlight ??= this.readOnce().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async readOnce(): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), this.timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => this.source()), timeout]);
    } catch {
      // A closed or failed engine: the scrape shows the last values rather than failing whole.
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
