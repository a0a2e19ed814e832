import { afterEach, describe, expect, it, vi } from 'vitest';
import { Deadlines } from '../../container/src/deadlines';

afterEach(() => {
  vi.useRealTimers();
});

const expired = (label: string) => () => new Error(`${label} expired`);

describe('request deadlines (one timer for all)', () => {
  it('settles as the work does when it finishes in time, and forgets it', async () => {
    const deadlines = new Deadlines(1000);
    await expect(deadlines.within(Promise.resolve(7), expired('a'))).resolves.toBe(7);
    await expect(deadlines.within(Promise.reject(new Error('no')), expired('b'))).rejects.toThrow('no');
    expect(deadlines.size).toBe(0);
  });

  it('rejects each piece of work that outlives the limit, at its own deadline, in order', async () => {
    vi.useFakeTimers();
    const deadlines = new Deadlines(100);
    const never = new Promise<number>(() => {});
    const outcomes: string[] = [];
    const track = (label: string, work: Promise<number>) =>
      deadlines.within(work, expired(label)).then(
        (v) => outcomes.push(`${label}=${v}`),
        (e: Error) => outcomes.push(e.message),
      );
    const a = track('a', never);
    await vi.advanceTimersByTimeAsync(40);
    let finishB: (v: number) => void = () => {};
    const b = track('b', new Promise<number>((resolve) => (finishB = resolve)));
    await vi.advanceTimersByTimeAsync(30);
    const c = track('c', never);
    await vi.advanceTimersByTimeAsync(31); // t = 101: a is due
    expect(outcomes).toEqual(['a expired']);
    finishB(2); // b finishes in time
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(['a expired', 'b=2']);
    await vi.advanceTimersByTimeAsync(68); // t = 169: c (started at 70) not yet due
    expect(outcomes).toEqual(['a expired', 'b=2']);
    await vi.advanceTimersByTimeAsync(2); // t = 171
    expect(outcomes).toEqual(['a expired', 'b=2', 'c expired']);
    await Promise.all([a, b, c]);
    expect(deadlines.size).toBe(0);
  });

  it('ignores the outcome of work that already expired', async () => {
    vi.useFakeTimers();
    const deadlines = new Deadlines(10);
    let finish: (v: number) => void = () => {};
    const result = deadlines.within(new Promise<number>((resolve) => (finish = resolve)), expired('late'));
    const settled = result.catch((e: Error) => e.message);
    await vi.advanceTimersByTimeAsync(11);
    finish(1);
    expect(await settled).toBe('late expired');
  });
});
