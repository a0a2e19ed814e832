/**
 * Memory admission: a budget of the memory that requests in flight may take, so that a few
 * large requests queue (or are refused with a clear answer) instead of growing the task past
 * its memory and getting it killed with every version it serves.
 *
 * A request reserves an estimate of its peak memory — its body size times its runtime's
 * expansion factor (a JSON body decoded into values, converted for the model, answered and
 * encoded takes many times its size) — before its body is read when the size is declared, else as
 * soon as it has been read. A reservation larger than the whole budget is refused (413); one
 * that does not fit now waits, first fit, up to a bound, then is refused as retryable (503).
 */
import { ScoringError } from './errors';

/**
 * Peak memory of a request as a multiple of its body, where its runtime is not known (the
 * largest of the runtimes' own figures, `ModelRuntime.memoryPerBodyByte`).
 */
export const DEFAULT_EXPANSION = 36;
/** Requests never reserve less than this, so a flood of tiny requests is bounded too. */
const MIN_RESERVATION_BYTES = 64 * 1024;

export interface AdmissionOptions {
  /** Bytes that requests in flight may reserve together. */
  readonly budgetBytes: number;
  /** Peak memory per body byte where the caller does not say. */
  readonly expansion?: number;
  /** How long a request may wait for room before it is refused with a 503. */
  readonly maxWaitMs: number;
}

interface Waiter {
  readonly bytes: number;
  readonly grant: () => void;
}

export interface AdmissionSnapshot {
  readonly budgetBytes: number;
  readonly reservedBytes: number;
  readonly inFlight: number;
  readonly waiting: number;
  /** Requests refused because they could never fit (413) or waited too long (503). */
  readonly refusedTooLarge: number;
  readonly refusedBusy: number;
}

/** Releases a reservation; calling it again does nothing. */
export type Release = () => void;

export class MemoryAdmission {
  readonly budgetBytes: number;
  readonly expansion: number;
  private reserved = 0;
  private inFlight = 0;
  private readonly waiters: Waiter[] = [];
  private refusedTooLarge = 0;
  private refusedBusy = 0;

  constructor(private readonly options: AdmissionOptions) {
    this.budgetBytes = options.budgetBytes;
    this.expansion = options.expansion ?? DEFAULT_EXPANSION;
  }

  /** The memory a request with a body of `bodyBytes` reserves. */
  reservationFor(bodyBytes: number, expansion = this.expansion): number {
    return Math.max(MIN_RESERVATION_BYTES, Math.ceil(bodyBytes * expansion));
  }

  /** The largest body this budget can ever admit. */
  largestBodyBytes(expansion = this.expansion): number {
    return Math.floor(this.budgetBytes / expansion);
  }

  /**
   * Reserves memory for a request with a body of `bodyBytes`; resolves with its release.
   * Rejects with a 413 ScoringError when it can never fit, a 503 when no room came in time.
   */
  admit(bodyBytes: number, expansion = this.expansion): Promise<Release> {
    const bytes = this.reservationFor(bodyBytes, expansion);
    if (bytes > this.budgetBytes) {
      this.refusedTooLarge++;
      return Promise.reject(
        new ScoringError(
          413,
          'BAD_REQUEST',
          `The request body of ${bodyBytes} bytes needs about ${mib(bytes)} MiB of memory to score, more than ` +
            `this serving task allows for requests (${mib(this.budgetBytes)} MiB; bodies up to about ` +
            `${mib(this.largestBodyBytes(expansion))} MiB). Split the request into smaller batches or choose a larger compute size.`,
        ),
      );
    }
    // First fit: a request that fits now goes now, even past larger ones waiting for room.
    if (this.reserved + bytes <= this.budgetBytes) {
      return Promise.resolve(this.take(bytes));
    }
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          clearTimeout(timer);
          resolve(this.take(bytes));
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        this.refusedBusy++;
        reject(
          new ScoringError(
            503,
            'TEMPORARILY_UNAVAILABLE',
            `The serving task is busy with large requests (${mib(this.reserved)} of ${mib(this.budgetBytes)} MiB ` +
              `reserved); this request waited ${this.options.maxWaitMs} ms for room. Retry shortly.`,
          ),
        );
        this.grantWaiting();
      }, this.options.maxWaitMs);
      timer.unref();
      this.waiters.push(waiter);
      this.grantWaiting();
    });
  }

  /**
   * The release of a reservation taken now when the request fits now, else undefined (and
   * nothing counted): then `admit` decides whether it waits or is refused. What a request that
   * fits takes from `admit`, without waiting for a promise.
   */
  admitNow(bodyBytes: number, expansion = this.expansion): Release | undefined {
    const bytes = this.reservationFor(bodyBytes, expansion);
    if (bytes > this.budgetBytes || this.reserved + bytes > this.budgetBytes) return undefined;
    return this.take(bytes);
  }

  snapshot(): AdmissionSnapshot {
    return {
      budgetBytes: this.budgetBytes,
      reservedBytes: this.reserved,
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      refusedTooLarge: this.refusedTooLarge,
      refusedBusy: this.refusedBusy,
    };
  }

  private take(bytes: number): Release {
    this.reserved += bytes;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.reserved -= bytes;
      this.inFlight--;
      this.grantWaiting();
    };
  }

  /** Grants waiting requests in arrival order, skipping ones that do not fit yet (first fit). */
  private grantWaiting(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i] as Waiter;
      if (this.reserved + waiter.bytes <= this.budgetBytes) {
        this.waiters.splice(i, 1);
        waiter.grant();
      } else {
        i++;
      }
    }
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
