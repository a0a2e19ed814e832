/** The Data API's named parameters as the `?` placeholders and typed values of a prepared statement. */
import mysql from 'mysql2/promise';
import { badRequest, type SqlParameter } from './wire';

export type BoundValue = ReturnType<typeof mysql.TypedParameter.NULL> | string | Buffer;

/**
 * Turns the Data API's `:name` parameters into `?` placeholders, in order of appearance (a
 * name used twice is bound twice). Quoted strings, quoted identifiers and comments are left
 * alone, as are MySQL's `:=` and a `:` inside a word.
 */
export function bindParameters(
  sql: string,
  parameters: readonly SqlParameter[],
): { sql: string; values: BoundValue[] } {
  const byName = new Map<string, SqlParameter>();
  for (const parameter of parameters) {
    if (byName.has(parameter.name)) throw badRequest(`Parameter ${parameter.name} is specified more than once`);
    byName.set(parameter.name, parameter);
  }
  let out = '';
  const values: BoundValue[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql.charAt(i);
    const skipTo = endOfQuotedOrComment(sql, i);
    if (skipTo > i) {
      out += sql.slice(i, skipTo);
      i = skipTo;
      continue;
    }
    if (c === '?') {
      throw badRequest("positional '?' placeholders are not supported: name parameters as :name");
    }
    if (c === ':' && /[A-Za-z_]/.test(sql.charAt(i + 1)) && !/[A-Za-z0-9_:]/.test(sql.charAt(i - 1))) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] ?? '';
      const parameter = byName.get(name);
      if (!parameter) throw badRequest(`No value specified for parameter: ${name}`);
      values.push(toBoundValue(parameter));
      out += '?';
      i += 1 + name.length;
      continue;
    }
    out += c;
    i += 1;
  }
  return { sql: out, values };
}

/** Where the string, quoted identifier or comment starting at `i` ends (`i` if none starts there). */
function endOfQuotedOrComment(sql: string, i: number): number {
  const c = sql.charAt(i);
  if (c === "'" || c === '"' || c === '`') {
    let j = i + 1;
    while (j < sql.length) {
      const d = sql.charAt(j);
      if (d === '\\' && c !== '`') j += 2;
      else if (d === c && sql.charAt(j + 1) === c) j += 2;
      else if (d === c) return j + 1;
      else j += 1;
    }
    return sql.length;
  }
  if (c === '#' || (c === '-' && sql.charAt(i + 1) === '-' && /[\s]|^$/.test(sql.charAt(i + 2)))) {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end;
  }
  if (c === '/' && sql.charAt(i + 1) === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  return i;
}

function toBoundValue(parameter: SqlParameter): BoundValue {
  const { name, value } = parameter;
  const T = mysql.TypedParameter;
  if (value.isNull !== undefined) return T.NULL();
  if (value.booleanValue !== undefined) return T.TINY(value.booleanValue);
  if (value.longValue !== undefined) return T.LONGLONG(value.longValue);
  if (value.doubleValue !== undefined) return T.DOUBLE(value.doubleValue);
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.blobValue !== undefined) return Buffer.from(value.blobValue, 'base64');
  throw badRequest(`Parameter ${name}: array values are not supported for Aurora MySQL`);
}
