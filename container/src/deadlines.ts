/**
 * One timer for every request's deadline. Every request gets the same time limit, so deadlines
 * fall in the order requests start: they are kept in that order, and a single timer, set for the
 * oldest one, expires those that are due and is set again for the next. A request that finishes
 * in time only leaves the set — no timer per request to create and clear.
 */

/** One request's deadline. */
class Entry {
  constructor(
    readonly at: number,
    private readonly reject: (error: Error) => void,
    private readonly expired: () => Error,
  ) {}

  expire(): void {
    this.reject(this.expired());
  }
}

export class Deadlines {
  /** In insertion order, which is deadline order (the limit is the same for all). */
  private readonly entries = new Set<Entry>();
  private timer?: NodeJS.Timeout;

  constructor(readonly limitMs: number) {}

  /** How many deadlines are pending. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Settles as `work` does, or rejects with `expired()` once the limit has passed, whichever
   * comes first (`work` goes on; its outcome is then ignored).
   */
  within<T>(work: Promise<T>, expired: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = new Entry(performance.now() + this.limitMs, reject, expired);
      this.entries.add(entry);
      if (this.timer === undefined) this.arm(entry.at);
      work.then(
        (value) => {
          this.entries.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.entries.delete(entry);
          reject(error);
        },
      );
    });
  }

  private arm(at: number): void {
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(at - performance.now())));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    for (const entry of this.entries) {
      if (entry.at > now) {
        this.arm(entry.at);
        return;
      }
      this.entries.delete(entry);
      entry.expire();
    }
  };
}
