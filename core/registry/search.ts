/**
 * MLflow's registry search: filter strings (`name LIKE 'iris%' AND tags.team = 'a'`),
 * `order_by` clauses, and offset page tokens, evaluated over domain objects.
 */
import { invalidParameter } from '../shared/errors';

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN';

export interface Clause {
  /** 'attribute' for plain keys (`name`, `run_id`…), 'tag' for `tags.<key>`. */
  readonly type: 'attribute' | 'tag';
  readonly key: string;
  readonly comparator: Comparator;
  readonly value: string | number | readonly string[];
}

type Token =
  | { kind: 'word'; text: string }
  | { kind: 'string'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'op'; text: string }
  | { kind: 'punct'; text: '(' | ')' | ',' };

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string) => invalidParameter(`Invalid filter '${filter}': ${why}`);
  while (i < filter.length) {
    const c = filter[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= filter.length) throw fail('unterminated string');
        const d = filter[j] as string;
        if (d === c && filter[j + 1] === c) {
          text += c;
          j += 2;
        } else if (d === c) {
          break;
        } else {
          text += d;
          j++;
        }
      }
      tokens.push({ kind: 'string', text });
      i = j + 1;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i++;
    } else if ('=!<>'.includes(c)) {
      const two = filter.slice(i, i + 2);
      if (['!=', '<=', '>=', '=='].includes(two)) {
        tokens.push({ kind: 'op', text: two === '==' ? '=' : two });
        i += 2;
      } else if (c === '!') {
        throw fail("'!' must be followed by '='");
      } else {
        tokens.push({ kind: 'op', text: c });
        i++;
      }
    } else if (/[0-9-]/.test(c) && /^-?[0-9]/.test(filter.slice(i, i + 2))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(filter.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'number', text: m[0] });
      i += m[0].length;
    } else {
      // identifiers, possibly dotted, with `backticked` parts: tags.`my key`
      let j = i;
      let text = '';
      while (j < filter.length && !/[\s=!<>(),'"]/.test(filter[j] as string)) {
        if (filter[j] === '`') {
          const end = filter.indexOf('`', j + 1);
          if (end < 0) throw fail('unterminated backtick');
          text += filter.slice(j + 1, end);
          j = end + 1;
        } else {
          text += filter[j];
          j++;
        }
      }
      if (j === i) throw fail(`unexpected character '${c}'`);
      tokens.push({ kind: 'word', text });
      i = j;
    }
  }
  return tokens;
}

export interface FilterSpec {
  /** Attribute keys allowed, with the comparators each accepts. */
  readonly attributes: Record<string, readonly Comparator[]>;
  /** Numeric attributes (compared as numbers). */
  readonly numeric?: readonly string[];
  /** Comparators allowed on tags. */
  readonly tagComparators: readonly Comparator[];
  /** Other spellings of attribute keys (e.g. `attributes.name`). */
  readonly aliases?: Record<string, string>;
}

/** Parses an MLflow filter string: clauses joined by AND. */
export function parseFilter(filter: string | undefined, spec: FilterSpec): Clause[] {
  if (filter === undefined || filter.trim() === '') return [];
  const tokens = tokenize(filter);
  const fail = (why: string) => invalidParameter(`Invalid filter '${filter}': ${why}`);
  const clauses: Clause[] = [];
  let i = 0;
  while (i < tokens.length) {
    const keyToken = tokens[i++];
    if (keyToken?.kind !== 'word') throw fail('expected a key such as name or tags.<key>');
    let type: Clause['type'] = 'attribute';
    let key = keyToken.text;
    if (/^tags?\./i.test(key)) {
      type = 'tag';
      key = key.slice(key.indexOf('.') + 1);
      if (key === '') throw fail('tag key is empty');
    } else {
      key = spec.aliases?.[key] ?? key;
      if (!(key in spec.attributes)) {
        throw fail(
          `invalid attribute key '${keyToken.text}'. Valid keys are ${Object.keys(spec.attributes)
            .map((k) => `'${k}'`)
            .join(', ')} and tags.<key>`,
        );
      }
    }
    let opToken = tokens[i++];
    let comparator: Comparator;
    if (opToken?.kind === 'op') {
      comparator = opToken.text as Comparator;
    } else if (opToken?.kind === 'word' && ['LIKE', 'ILIKE', 'IN'].includes(opToken.text.toUpperCase())) {
      comparator = opToken.text.toUpperCase() as Comparator;
    } else if (opToken?.kind === 'word' && opToken.text.toUpperCase() === 'NOT') {
      opToken = tokens[i++];
      if (opToken?.kind !== 'word' || opToken.text.toUpperCase() !== 'IN') throw fail('expected IN after NOT');
      comparator = 'NOT IN';
    } else {
      throw fail(`expected a comparator after '${keyToken.text}'`);
    }
    const allowed = type === 'tag' ? spec.tagComparators : (spec.attributes[key] as readonly Comparator[]);
    if (!allowed.includes(comparator)) {
      throw fail(
        `comparator '${comparator}' is not supported for ${type === 'tag' ? 'tags' : `'${key}'`}; use one of ${allowed.join(', ')}`,
      );
    }
    let value: Clause['value'];
    if (comparator === 'IN' || comparator === 'NOT IN') {
      if (tokens[i]?.kind !== 'punct' || tokens[i]?.text !== '(') throw fail(`expected '(' after ${comparator}`);
      i++;
      const list: string[] = [];
      for (;;) {
        const item = tokens[i++];
        if (item?.kind !== 'string') throw fail(`${comparator} takes a list of quoted strings`);
        list.push(item.text);
        const sep = tokens[i++];
        if (sep?.kind === 'punct' && sep.text === ')') break;
        if (sep?.kind !== 'punct' || sep.text !== ',') throw fail(`expected ',' or ')' in the ${comparator} list`);
      }
      value = list;
    } else {
      const v = tokens[i++];
      const numeric = type === 'attribute' && spec.numeric?.includes(key);
      if (numeric) {
        if (v?.kind !== 'number' && v?.kind !== 'string') throw fail(`expected a number for '${key}'`);
        const n = Number(v.text);
        if (!Number.isFinite(n)) throw fail(`expected a number for '${key}', got '${v.text}'`);
        value = n;
      } else {
        if (v?.kind !== 'string') throw fail(`the value for '${keyToken.text}' must be a quoted string`);
        value = v.text;
      }
    }
    clauses.push({ type, key, comparator, value });
    if (i < tokens.length) {
      const and = tokens[i++];
      if (and?.kind !== 'word' || and.text.toUpperCase() !== 'AND') {
        throw fail('clauses must be joined with AND (OR is not supported)');
      }
      if (i >= tokens.length) throw fail('dangling AND');
    }
  }
  return clauses;
}

/** SQL LIKE: `%` any run, `_` any one character. */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '%') source += '[\\s\\S]*';
    else if (ch === '_') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'i' : '');
}

/** Whether one value satisfies one clause. `actual` undefined means the key is absent. */
export function matches(clause: Clause, actual: string | number | undefined): boolean {
  const { comparator, value } = clause;
  if (actual === undefined) return comparator === '!=' && clause.type === 'attribute';
  switch (comparator) {
    case '=':
      return actual === value;
    case '!=':
      return actual !== value;
    case '<':
      return (actual as number) < (value as number);
    case '<=':
      return (actual as number) <= (value as number);
    case '>':
      return (actual as number) > (value as number);
    case '>=':
      return (actual as number) >= (value as number);
    case 'LIKE':
      return likeToRegExp(value as string, false).test(String(actual));
    case 'ILIKE':
      return likeToRegExp(value as string, true).test(String(actual));
    case 'IN':
      return (value as readonly string[]).includes(String(actual));
    case 'NOT IN':
      return !(value as readonly string[]).includes(String(actual));
  }
}

export interface OrderKey {
  readonly key: string;
  readonly ascending: boolean;
}

/** Parses `order_by` entries such as `name ASC` or `last_updated_timestamp DESC`. */
export function parseOrderBy(orderBy: readonly string[] | undefined, allowed: Record<string, string>): OrderKey[] {
  return (orderBy ?? []).map((entry) => {
    const m = /^\s*(`[^`]+`|[A-Za-z_.]+)\s*(ASC|DESC)?\s*$/i.exec(entry);
    const rawKey = m?.[1]?.replace(/`/g, '');
    const key = rawKey === undefined ? undefined : allowed[rawKey];
    if (!m || key === undefined) {
      throw invalidParameter(
        `Invalid order_by clause '${entry}'. Supported keys: ${Object.keys(allowed).join(', ')}, each optionally followed by ASC or DESC.`,
      );
    }
    return { key, ascending: (m[2] ?? 'ASC').toUpperCase() === 'ASC' };
  });
}

export function compareBy<T>(keys: readonly OrderKey[], value: (item: T, key: string) => string | number) {
  return (a: T, b: T): number => {
    for (const { key, ascending } of keys) {
      const x = value(a, key);
      const y = value(b, key);
      if (x < y) return ascending ? -1 : 1;
      if (x > y) return ascending ? 1 : -1;
    }
    return 0;
  };
}

/** Page tokens are base64 JSON `{"offset": n}`, as MLflow's SQL store makes them. */
export function encodePageToken(offset: number): string {
  return Buffer.from(`{"offset": ${offset}}`).toString('base64');
}

export function decodePageToken(token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset?: unknown };
    if (typeof parsed.offset === 'number' && Number.isInteger(parsed.offset) && parsed.offset >= 0) {
      return parsed.offset;
    }
  } catch {
    // fall through to the error below
  }
  throw invalidParameter(`Invalid page token '${token}': pass the next_page_token of a previous search.`);
}
