import { describe, expect, it } from 'vitest';
import { DEFAULT_RATE_LIMIT, parseRateLimit, RateLimiter } from '../../core/auth/rate-limit';

describe('MLSERVE_RATE_LIMIT', () => {
  it('reads a rate and a burst, or a rate alone with a burst of twice the rate', () => {
    expect(parseRateLimit('5,10')).toEqual({ perSecond: 5, burst: 10 });
    expect(parseRateLimit(' 50 , 60 ')).toEqual({ perSecond: 50, burst: 60 });
    expect(parseRateLimit('20')).toEqual({ perSecond: 20, burst: 40 });
    expect(parseRateLimit('0.2')).toEqual({ perSecond: 0.2, burst: 1 });
  });

  it('turns the limit off with off, and leaves the default when unset or empty', () => {
    expect(parseRateLimit('off')).toBe('off');
    expect(parseRateLimit('OFF')).toBe('off');
    expect(parseRateLimit(undefined)).toBeUndefined();
    expect(parseRateLimit('')).toBeUndefined();
    expect(DEFAULT_RATE_LIMIT).toEqual({ perSecond: 100, burst: 200 });
  });

  it.each([
    ['fast', 'the rate must be a number above 0'],
    ['0', 'the rate must be a number above 0'],
    ['-5,10', 'the rate must be a number above 0'],
    ['10,0', 'the burst must be a whole number of at least 1'],
    ['10,2.5', 'the burst must be a whole number of at least 1'],
    ['10,', 'the burst must be a whole number of at least 1'],
    ['1,2,3', 'at most two comma-separated numbers'],
  ])("refuses '%s', saying what it takes", (value, why) => {
    expect(() => parseRateLimit(value)).toThrow(
      `MLSERVE_RATE_LIMIT must be <requests per second>[,<burst>] (e.g. 100,200) or off; got '${value}': ${why}.`,
    );
  });
});

describe('the per-token limiter', () => {
  it('lets a burst through, then refills at the rate, per key', () => {
    let now = 0;
    const limiter = new RateLimiter(2, 3, () => now);
    expect([1, 2, 3, 4].map(() => limiter.take('a'))).toEqual([true, true, true, false]);
    expect(limiter.take('b')).toBe(true);
    now = 500;
    expect([limiter.take('a'), limiter.take('a')]).toEqual([true, false]);
  });
});
