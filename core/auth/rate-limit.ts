/**
 * Per-token request limits in the local twin (API Gateway usage plans do this on AWS): a token
 * bucket per key, refilled at `perSecond` up to `burst`.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Takes one request's worth for `key`; false when the key is over its limit. */
  take(key: string): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** Requests per second per token, and the burst above it. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** The twin's limit unless told otherwise. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 200 };

/**
 * `MLSERVE_RATE_LIMIT`: `<per second>[,<burst>]` (a burst left out is twice the rate, at least
 * 1, as in the default 100,200) or `off`; unset or empty is undefined (the default). Anything
 * else throws, with a message naming the variable and what it takes.
 */
export function parseRateLimit(
  text: string | undefined,
  variable = 'MLSERVE_RATE_LIMIT',
): RateLimit | 'off' | undefined {
  const value = text?.trim() ?? '';
  if (value === '') return undefined;
  if (value.toLowerCase() === 'off') return 'off';
  const refuse = (why: string): never => {
    throw new Error(
      `${variable} must be <requests per second>[,<burst>] (e.g. 100,200) or off; got '${value}': ${why}.`,
    );
  };
  const [rate, burst, ...rest] = value.split(',').map((part) => part.trim());
  if (rest.length > 0) refuse('at most two comma-separated numbers');
  if (!/^\d+(\.\d+)?$/.test(rate ?? '') || Number(rate) <= 0) {
    refuse('the rate must be a number above 0');
  }
  const perSecond = Number(rate);
  if (burst === undefined) return { perSecond, burst: Math.max(1, Math.ceil(perSecond * 2)) };
  if (!/^\d+$/.test(burst) || Number(burst) < 1 || !Number.isSafeInteger(Number(burst))) {
    refuse('the burst must be a whole number of at least 1');
  }
  return { perSecond, burst: Number(burst) };
}
