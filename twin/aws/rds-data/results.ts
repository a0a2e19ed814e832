/**
 * A statement's result in the Data API's terms: rows as typed `records` (or `formattedRecords`
 * for JSON), with `columnMetadata` as Connector/J reports it, from the MySQL protocol's column types.
 */
import type { FieldPacket, ResultSetHeader } from 'mysql2/promise';
import {
  type ColumnMetadata,
  type ExecuteStatementRequest,
  type ExecuteStatementResponse,
  rawJson,
  type WireField,
} from './wire';

// MySQL protocol column types.
const T = {
  DECIMAL: 0x00,
  TINY: 0x01,
  SHORT: 0x02,
  LONG: 0x03,
  FLOAT: 0x04,
  DOUBLE: 0x05,
  NULL: 0x06,
  TIMESTAMP: 0x07,
  LONGLONG: 0x08,
  INT24: 0x09,
  DATE: 0x0a,
  TIME: 0x0b,
  DATETIME: 0x0c,
  YEAR: 0x0d,
  NEWDATE: 0x0e,
  VARCHAR: 0x0f,
  BIT: 0x10,
  JSON: 0xf5,
  NEWDECIMAL: 0xf6,
  ENUM: 0xf7,
  SET: 0xf8,
  TINY_BLOB: 0xf9,
  MEDIUM_BLOB: 0xfa,
  LONG_BLOB: 0xfb,
  BLOB: 0xfc,
  VAR_STRING: 0xfd,
  STRING: 0xfe,
  GEOMETRY: 0xff,
} as const;
const FLAG = { NOT_NULL: 1, UNSIGNED: 32, BINARY: 128, ENUM: 256, AUTO_INCREMENT: 512, SET: 2048 } as const;
const BINARY_CHARSET = 63;
// java.sql.Types, which the Data API reports as a column's `type`.
const JDBC = {
  BIT: -7,
  TINYINT: -6,
  SMALLINT: 5,
  INTEGER: 4,
  BIGINT: -5,
  REAL: 7,
  DOUBLE: 8,
  DECIMAL: 3,
  CHAR: 1,
  VARCHAR: 12,
  LONGVARCHAR: -1,
  DATE: 91,
  TIME: 92,
  TIMESTAMP: 93,
  BINARY: -2,
  VARBINARY: -3,
  LONGVARBINARY: -4,
  NULL: 0,
} as const;

const MAX_LONG = 2n ** 63n - 1n;

type Options = Pick<ExecuteStatementRequest, 'resultSetOptions'>;

export function respond(
  request: ExecuteStatementRequest,
  result: unknown,
  fields: FieldPacket[] | undefined,
): ExecuteStatementResponse {
  if (!Array.isArray(result) || !fields) {
    const header = result as ResultSetHeader;
    return {
      numberOfRecordsUpdated: header.affectedRows ?? 0,
      generatedFields: header.insertId ? [{ longValue: header.insertId }] : [],
    };
  }
  const rows = result as unknown[][];
  if (request.formatRecordsAs === 'JSON') {
    const objects = rows.map((row) =>
      Object.fromEntries(fields.map((field, i) => [field.name, jsonValue(toField(field, row[i], request))])),
    );
    return { numberOfRecordsUpdated: 0, generatedFields: [], formattedRecords: JSON.stringify(objects) };
  }
  return {
    numberOfRecordsUpdated: 0,
    generatedFields: [],
    records: rows.map((row) => fields.map((field, i) => toField(field, row[i], request))),
    ...(request.includeResultMetadata ? { columnMetadata: fields.map(columnMetadata) } : {}),
  };
}

const flagsOf = (field: FieldPacket) => (typeof field.flags === 'number' ? field.flags : 0);
const typeOf = (field: FieldPacket) => field.columnType ?? field.type ?? T.VAR_STRING;
const isBooleanColumn = (field: FieldPacket) =>
  (typeOf(field) === T.BIT || typeOf(field) === T.TINY) && field.columnLength === 1;

function toField(field: FieldPacket, value: unknown, options: Options): WireField {
  if (value === null || value === undefined) return { isNull: true };
  const type = typeOf(field);
  if (isBooleanColumn(field)) {
    return { booleanValue: Buffer.isBuffer(value) ? value.some((b) => b !== 0) : Number(value) !== 0 };
  }
  switch (type) {
    case T.TINY:
    case T.SHORT:
    case T.LONG:
    case T.INT24:
    case T.YEAR:
      return { longValue: Number(value) };
    case T.LONGLONG: {
      const digits = String(value);
      if (options.resultSetOptions?.longReturnType === 'STRING' || BigInt(digits) > MAX_LONG) {
        return { stringValue: digits };
      }
      return { longValue: Number.isSafeInteger(Number(digits)) ? Number(digits) : rawJson(digits) };
    }
    case T.BIT: {
      const bytes = value as Buffer;
      return { longValue: Number(bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n)) };
    }
    case T.FLOAT:
      return { doubleValue: shortestFloat32(value as number) };
    case T.DOUBLE:
      return { doubleValue: value as number };
    case T.DECIMAL:
    case T.NEWDECIMAL: {
      const digits = String(value);
      if (options.resultSetOptions?.decimalReturnType !== 'DOUBLE_OR_LONG') return { stringValue: digits };
      return /^-?\d+$/.test(digits) ? { longValue: Number(digits) } : { doubleValue: Number(digits) };
    }
    default:
      if (Buffer.isBuffer(value)) return { blobValue: value.toString('base64') };
      return { stringValue: typeof value === 'string' ? value : JSON.stringify(value) };
  }
}

/** A FLOAT column's value with as few digits as make the same float32 (MySQL prints 0.1, not 0.100000001). */
function shortestFloat32(value: number): number {
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function jsonValue(field: WireField): unknown {
  if ('isNull' in field) return null;
  if ('booleanValue' in field) return field.booleanValue;
  if ('longValue' in field) return field.longValue;
  if ('doubleValue' in field) return field.doubleValue;
  if ('stringValue' in field) return field.stringValue;
  return field.blobValue;
}

function columnMetadata(field: FieldPacket): ColumnMetadata {
  const flags = flagsOf(field);
  const unsigned = (flags & FLAG.UNSIGNED) !== 0;
  const { type, typeName } = jdbcType(field);
  const numeric = [JDBC.TINYINT, JDBC.SMALLINT, JDBC.INTEGER, JDBC.BIGINT, JDBC.REAL, JDBC.DOUBLE, JDBC.DECIMAL].some(
    (t) => t === type,
  );
  const textual = [JDBC.CHAR, JDBC.VARCHAR, JDBC.LONGVARCHAR].some((t) => t === type);
  const binary = [JDBC.BINARY, JDBC.VARBINARY, JDBC.LONGVARBINARY].some((t) => t === type);
  const length = field.columnLength ?? 0;
  const scale = field.decimals > 30 ? 0 : field.decimals;
  let precision = length;
  if (textual) precision = Math.floor(length / bytesPerChar(field.characterSet));
  if (type === JDBC.DECIMAL) precision = length - (scale > 0 ? 1 : 0) - (unsigned ? 0 : 1);
  return {
    name: field.orgName || field.name,
    type,
    typeName,
    label: field.name,
    schemaName: '',
    tableName: field.orgTable || field.table || '',
    isAutoIncrement: (flags & FLAG.AUTO_INCREMENT) !== 0,
    isSigned: numeric && !unsigned,
    isCurrency: false,
    isCaseSensitive: binary || (textual && (flags & FLAG.BINARY) !== 0),
    nullable: (flags & FLAG.NOT_NULL) !== 0 ? 0 : 1,
    precision,
    scale,
    arrayBaseColumnType: 0,
  };
}

function bytesPerChar(charset: number | undefined): number {
  if (charset === undefined || charset === BINARY_CHARSET) return 1;
  if (charset === 33 || charset === 83 || (charset >= 192 && charset <= 215)) return 3;
  if (charset === 45 || charset === 46 || (charset >= 224 && charset <= 247) || charset >= 255) return 4;
  return 1;
}

function jdbcType(field: FieldPacket): { type: number; typeName: string } {
  const flags = flagsOf(field);
  const unsigned = (flags & FLAG.UNSIGNED) !== 0 ? ' UNSIGNED' : '';
  const binary = field.characterSet === BINARY_CHARSET;
  // TINYTEXT … LONGTEXT by their length in characters (the protocol gives bytes).
  const length = Math.floor((field.columnLength ?? 0) / bytesPerChar(field.characterSet));
  const sized = (base: string) =>
    `${length <= 0xff ? 'TINY' : length <= 0xffff ? '' : length <= 0xffffff ? 'MEDIUM' : 'LONG'}${base}`;
  if (isBooleanColumn(field)) return { type: JDBC.BIT, typeName: 'BIT' };
  switch (typeOf(field)) {
    case T.BIT:
      return { type: JDBC.BIT, typeName: 'BIT' };
    case T.TINY:
      return { type: unsigned ? JDBC.SMALLINT : JDBC.TINYINT, typeName: `TINYINT${unsigned}` };
    case T.SHORT:
      return { type: unsigned ? JDBC.INTEGER : JDBC.SMALLINT, typeName: `SMALLINT${unsigned}` };
    case T.INT24:
      return { type: JDBC.INTEGER, typeName: `MEDIUMINT${unsigned}` };
    case T.LONG:
      return { type: unsigned ? JDBC.BIGINT : JDBC.INTEGER, typeName: `INT${unsigned}` };
    case T.LONGLONG:
      return { type: JDBC.BIGINT, typeName: `BIGINT${unsigned}` };
    case T.FLOAT:
      return { type: JDBC.REAL, typeName: `FLOAT${unsigned}` };
    case T.DOUBLE:
      return { type: JDBC.DOUBLE, typeName: `DOUBLE${unsigned}` };
    case T.DECIMAL:
    case T.NEWDECIMAL:
      return { type: JDBC.DECIMAL, typeName: `DECIMAL${unsigned}` };
    case T.DATE:
    case T.NEWDATE:
      return { type: JDBC.DATE, typeName: 'DATE' };
    case T.YEAR:
      return { type: JDBC.DATE, typeName: 'YEAR' };
    case T.TIME:
      return { type: JDBC.TIME, typeName: 'TIME' };
    case T.DATETIME:
      return { type: JDBC.TIMESTAMP, typeName: 'DATETIME' };
    case T.TIMESTAMP:
      return { type: JDBC.TIMESTAMP, typeName: 'TIMESTAMP' };
    case T.JSON:
      return { type: JDBC.LONGVARCHAR, typeName: 'JSON' };
    case T.NULL:
      return { type: JDBC.NULL, typeName: 'NULL' };
    case T.GEOMETRY:
      return { type: JDBC.BINARY, typeName: 'GEOMETRY' };
    case T.TINY_BLOB:
    case T.MEDIUM_BLOB:
    case T.LONG_BLOB:
    case T.BLOB:
      if (field.extendedFormat === 'json') return { type: JDBC.LONGVARCHAR, typeName: 'JSON' };
      return binary
        ? { type: JDBC.LONGVARBINARY, typeName: sized('BLOB') }
        : { type: JDBC.LONGVARCHAR, typeName: sized('TEXT') };
    case T.STRING:
      if (flags & FLAG.ENUM) return { type: JDBC.CHAR, typeName: 'ENUM' };
      if (flags & FLAG.SET) return { type: JDBC.CHAR, typeName: 'SET' };
      return binary ? { type: JDBC.BINARY, typeName: 'BINARY' } : { type: JDBC.CHAR, typeName: 'CHAR' };
    default:
      return binary ? { type: JDBC.VARBINARY, typeName: 'VARBINARY' } : { type: JDBC.VARCHAR, typeName: 'VARCHAR' };
  }
}
