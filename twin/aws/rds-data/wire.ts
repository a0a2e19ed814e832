/**
 * The RDS Data API's `ExecuteStatement` on the wire: its request (checked with a schema), its
 * response shapes, and its errors.
 */
import { z } from 'zod';
import { schemaProblems } from '../../../core/shared/schema-problems';

/** An error answered in the Data API's own terms. */
export class DataApiError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export const badRequest = (message: string) => new DataApiError('BadRequestException', 400, message);

export function internalError(error: unknown): DataApiError {
  return new DataApiError('InternalServerErrorException', 500, `internal error: ${(error as Error)?.message ?? error}`);
}

// ---------------------------------------------------------------------------------------------
// Request

const FieldSchema = z
  .object({
    isNull: z.boolean().optional(),
    booleanValue: z.boolean().optional(),
    longValue: z.union([z.number().int(), z.bigint()]).optional(),
    doubleValue: z.number().optional(),
    stringValue: z.string().optional(),
    blobValue: z.base64().optional(),
    arrayValue: z.unknown().optional(),
  })
  .strict()
  .refine((field) => Object.keys(field).length === 1, 'a value must have exactly one member');

const ExecuteStatementSchema = z
  .object({
    resourceArn: z.string().min(11).max(100),
    secretArn: z.string().min(11).max(100),
    sql: z.string().max(65_536),
    database: z.string().max(64).optional(),
    schema: z.string().max(64).optional(),
    parameters: z
      .array(
        z
          .object({
            name: z.string().min(1),
            value: FieldSchema,
            typeHint: z.enum(['DATE', 'DECIMAL', 'JSON', 'TIME', 'TIMESTAMP', 'UUID']).optional(),
          })
          .strict(),
      )
      .optional(),
    transactionId: z.string().optional(),
    includeResultMetadata: z.boolean().optional(),
    continueAfterTimeout: z.boolean().optional(),
    resultSetOptions: z
      .object({
        decimalReturnType: z.enum(['STRING', 'DOUBLE_OR_LONG']).optional(),
        longReturnType: z.enum(['LONG', 'STRING']).optional(),
      })
      .strict()
      .optional(),
    formatRecordsAs: z.enum(['NONE', 'JSON']).optional(),
  })
  .strict();

export type ExecuteStatementRequest = z.infer<typeof ExecuteStatementSchema>;
export type SqlParameter = NonNullable<ExecuteStatementRequest['parameters']>[number];

export function parseRequest(body: string): ExecuteStatementRequest {
  let json: unknown;
  try {
    // An integer beyond 2^53 keeps its digits (as a bigint) instead of rounding.
    json = JSON.parse(body, ((_key: string, value: unknown, context?: { source?: string }) =>
      typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)
        ? BigInt(context.source)
        : value) as (key: string, value: unknown) => unknown);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
  const parsed = ExecuteStatementSchema.safeParse(json);
  if (!parsed.success) {
    const problems = schemaProblems(parsed.error, '(body)');
    throw badRequest(`Invalid request: ${problems}`);
  }
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// Response

/** A `Field` as it travels on the wire (a blob is base64). */
export type WireField =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: number | RawJson }
  | { doubleValue: number }
  | { stringValue: string }
  | { blobValue: string };

export interface ColumnMetadata {
  name: string;
  type: number;
  typeName: string;
  label: string;
  schemaName: string;
  tableName: string;
  isAutoIncrement: boolean;
  isSigned: boolean;
  isCurrency: boolean;
  isCaseSensitive: boolean;
  nullable: number;
  precision: number;
  scale: number;
  arrayBaseColumnType: number;
}

export interface ExecuteStatementResponse {
  numberOfRecordsUpdated: number;
  generatedFields: WireField[];
  records?: WireField[][];
  columnMetadata?: ColumnMetadata[];
  formattedRecords?: string;
}

/** A JSON number written with exactly these digits (a BIGINT beyond 2^53 keeps every digit). */
export type RawJson = { readonly rawJSON: string };
export const rawJson = (JSON as unknown as { rawJSON(text: string): RawJson }).rawJSON;
