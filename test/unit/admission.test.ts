import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryAdmission } from '../../container/src/admission';
import { ScoringError } from '../../container/src/errors';

const MIB = 1024 * 1024;

afterEach(() => {
  vi.useRealTimers();
});

describe('memory admission', () => {
  it('admits requests at once while their reservations fit the budget', async () => {
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, expansion: 10, maxWaitMs: 1000 });
    const first = await admission.admit(4 * MIB);
    const second = await admission.admit(5 * MIB);
    expect(admission.snapshot()).toMatchObject({ reservedBytes: 90 * MIB, inFlight: 2, waiting: 0 });
    first();
    second();
    second();
    expect(admission.snapshot()).toMatchObject({ reservedBytes: 0, inFlight: 0 });
  });

  it('refuses with 413 a request that could never fit, saying what would', async () => {
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, expansion: 20, maxWaitMs: 1000 });
    const error = (await admission.admit(6 * MIB).catch((e: unknown) => e)) as ScoringError;
    expect(error).toBeInstanceOf(ScoringError);
    expect(error.status).toBe(413);
    expect(error.message).toMatch(/bodies up to about 5 MiB/);
    expect(admission.snapshot().refusedTooLarge).toBe(1);
  });

  it('queues a request until room is released, and lets smaller ones that fit go first', async () => {
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, expansion: 10, maxWaitMs: 10_000 });
    const big = await admission.admit(6 * MIB);
    const order: string[] = [];
    const waiting = admission.admit(6 * MIB).then((release) => {
      order.push('second big');
      return release;
    });
    const small = await admission.admit(1024);
    order.push('small');
    expect(admission.snapshot().waiting).toBe(1);
    big();
    const release = await waiting;
    expect(order).toEqual(['small', 'second big']);
    release();
    small();
    expect(admission.snapshot().reservedBytes).toBe(0);
  });

  it('refuses with a retryable 503 a request that waited too long, and serves the next one', async () => {
    vi.useFakeTimers();
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, expansion: 10, maxWaitMs: 500 });
    const held = await admission.admit(9 * MIB);
    const waiting = admission.admit(9 * MIB).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(501);
    const error = (await waiting) as ScoringError;
    expect(error.status).toBe(503);
    expect(error.errorCode).toBe('TEMPORARILY_UNAVAILABLE');
    expect(admission.snapshot()).toMatchObject({ waiting: 0, refusedBusy: 1 });
    held();
    const next = await admission.admit(9 * MIB);
    next();
  });

  it('reserves a floor for tiny requests, so a flood of them is bounded too', () => {
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, maxWaitMs: 1000 });
    expect(admission.reservationFor(10)).toBe(64 * 1024);
    expect(admission.reservationFor(MIB, 20)).toBe(20 * MIB);
  });

  it('admits at once, without a promise, what fits now; leaves to admit() what does not', async () => {
    const admission = new MemoryAdmission({ budgetBytes: 100 * MIB, expansion: 10, maxWaitMs: 1000 });
    const first = admission.admitNow(6 * MIB);
    expect(first).toBeTypeOf('function');
    expect(admission.admitNow(5 * MIB)).toBeUndefined(); // 60 + 50 MiB > 100 MiB
    expect(admission.admitNow(11 * MIB)).toBeUndefined(); // could never fit: admit() refuses it
    expect(admission.snapshot()).toMatchObject({ reservedBytes: 60 * MIB, inFlight: 1, refusedTooLarge: 0 });
    first?.();
    expect(admission.snapshot()).toMatchObject({ reservedBytes: 0, inFlight: 0 });
  });
});
