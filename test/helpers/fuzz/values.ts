/**
 * Seeded randomness for the fuzz bodies: the PRNG, odd strings and numbers, random scalars, and
 * random JSON trees with their nesting depth.
 */
import { IRIS_COLUMNS } from '../iris-host';

/** mulberry32: a small seeded PRNG with a 2^32 period, plenty for choosing bodies. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let at = this.next() * total;
    for (const [w, value] of items) {
      at -= w;
      if (at < 0) return value;
    }
    return (items[items.length - 1] as readonly [number, T])[1];
  }
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

const ODD_STRINGS = [
  '',
  ' ',
  'abc',
  '5.1',
  '1e3',
  'NaN',
  'nan',
  'inf',
  '-Infinity',
  'null',
  'true',
  '0x10',
  'sepal_length',
  '\u0000',
  '\t\n\r',
  'é',
  '日本語',
  '😀',
  '\ud800',
  '\udfff',
  'a\ud83db',
  '"quoted"',
  '\\',
  '{"inputs": [[1]]}',
  '[[5.1,3.5,1.4,0.2]]',
  '\u202e\u200b',
];

export function randomString(rng: Rng): string {
  if (rng.chance(0.5)) return rng.pick(ODD_STRINGS);
  const length = rng.int(0, 24);
  let s = '';
  for (let i = 0; i < length; i++) {
    const roll = rng.next();
    if (roll < 0.7) s += String.fromCharCode(rng.int(0x20, 0x7e));
    else if (roll < 0.8) s += String.fromCharCode(rng.int(0, 0x1f));
    else if (roll < 0.9) s += String.fromCharCode(rng.int(0xa0, 0xd7ff));
    else if (roll < 0.95)
      s += String.fromCharCode(rng.int(0xd800, 0xdfff)); // lone surrogate
    else s += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
  }
  return s;
}

const ODD_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1e-320,
  5e-324,
  1.7976931348623157e308,
  -1.7976931348623157e308,
  2 ** 53 + 2,
  -(2 ** 63),
  2 ** 64,
  4294967296,
  123456789,
];

export function randomNumber(rng: Rng): number {
  const roll = rng.next();
  if (roll < 0.3) return rng.pick(ODD_NUMBERS);
  if (roll < 0.6) return rng.int(-1000, 1000);
  if (roll < 0.8) return Number((rng.next() * 10).toFixed(rng.int(0, 3)));
  return (rng.next() - 0.5) * 10 ** rng.int(-30, 300);
}

export function randomScalar(rng: Rng): Value {
  const roll = rng.next();
  if (roll < 0.35) return randomNumber(rng);
  if (roll < 0.65) return randomString(rng);
  if (roll < 0.8) return rng.chance(0.5);
  return null;
}

/** A random JSON tree nesting exactly `depth` levels of arrays/objects (0: a scalar). */
export function randomTree(rng: Rng, depth: number, budget = { nodes: 400 }): Value {
  if (depth <= 0 || budget.nodes <= 0) return randomScalar(rng);
  budget.nodes--;
  const width = depth > 8 ? rng.int(1, 2) : rng.int(1, 4);
  const deep = rng.int(0, width - 1);
  const children: Value[] = [];
  for (let i = 0; i < width; i++) {
    const childDepth = i === deep ? depth - 1 : rng.int(0, Math.min(2, depth - 1));
    children.push(randomTree(rng, childDepth, budget));
  }
  if (rng.chance(0.6)) return children;
  const object: { [key: string]: Value } = {};
  children.forEach((child, i) => {
    object[rng.chance(0.3) ? rng.pick(['inputs', 'data', 'columns', ...IRIS_COLUMNS]) : `${randomString(rng)}${i}`] =
      child;
  });
  return object;
}

/** A random nesting depth for a tree: mostly shallow, some around and past the host's limit of 64. */
export function randomDepth(rng: Rng): number {
  return rng.weighted([
    [5, rng.int(0, 6)],
    [3, rng.int(7, 30)],
    [2, rng.int(55, 80)],
  ]);
}
