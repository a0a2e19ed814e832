/**
 * The frames the model host and a Python pyfunc worker exchange over the worker's stdin/stdout:
 * a 4-byte big-endian unsigned length, then that many bytes of UTF-8 JSON.
 */
import { FrameError } from '../errors';
import type { Json, ScoringInput } from '../scoring/input';

/**
 * Largest NumPy fixed-width string array a request may make the worker build. A tensor input
 * holding strings becomes such an array (as in MLflow's scoring server), every element as wide
 * as the longest string: 8,000 values beside one 100 KB string take 3 GB.
 */
export const MAX_FIXED_WIDTH_BYTES = 64 * 1024 * 1024;
/** Characters a number takes in a fixed-width string array beside strings (NumPy's repr, at most). */
const NUMBER_WIDTH = 32;

/**
 * The bytes of the fixed-width string array the worker would build from a tensor input that
 * holds strings (elements times the longest string, 4 bytes a character); 0 when it holds none.
 * A table is not one: its string columns stay Python objects.
 */
export function fixedWidthStringBytes(input: ScoringInput): number {
  if (input.kind === 'dataframe') return 0;
  const values: Json[] = input.kind === 'tensor' ? [input.data as Json[]] : Object.values(input.data);
  let largest = 0;
  for (const value of values) {
    let elements = 0;
    let longest = 0;
    let strings = false;
    const stack: Json[] = [value];
    while (stack.length > 0) {
      const item = stack.pop() as Json;
      if (Array.isArray(item)) {
        for (const element of item) stack.push(element);
      } else {
        elements++;
        if (typeof item === 'string') {
          strings = true;
          if (item.length > longest) longest = item.length;
        }
      }
    }
    if (strings) largest = Math.max(largest, elements * Math.max(longest, NUMBER_WIDTH) * 4);
  }
  return largest;
}

/** Largest frame either side accepts (bodies are capped far below this by the HTTP server). */
export const MAX_FRAME_BYTES = 512 * 1024 * 1024;

/** The worker's first frame: loaded and ready for requests. */
export interface ReadyEvent {
  readonly event: 'ready';
  readonly loader: 'mlflow' | 'sklearn';
  readonly pid: number;
}

/** The worker's first frame when the model cannot be loaded; it exits with code 1 after it. */
export interface FailedEvent {
  readonly event: 'failed';
  readonly message: string;
}

/** One prediction request; the worker answers requests one at a time, in order. */
export interface PredictRequest {
  readonly id: number;
  readonly op: 'predict';
  readonly input: ScoringInput;
  readonly params: { readonly [key: string]: Json } | null;
}

export type WorkerErrorCode = 'INVALID_PARAMETER_VALUE' | 'BAD_REQUEST' | 'INTERNAL_ERROR';

/** The answer to one request (`id` is null when the worker could not read the request at all). */
export type PredictReply =
  | { readonly id: number | null; readonly ok: true; readonly predictions: Json }
  | {
      readonly id: number | null;
      readonly ok: false;
      readonly error_code: WorkerErrorCode;
      readonly message: string;
      /** Python traceback of a model failure, when there is one. */
      readonly stack_trace?: string;
    };

export type WorkerMessage = ReadyEvent | FailedEvent | PredictReply;

/** One frame holding `message` as JSON. */
export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES) {
    throw new FrameError(`frame of ${body.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  }
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into frames and parses each one's JSON. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Adds bytes read from the stream; returns the frames they complete, in order. */
  push(chunk: Buffer): unknown[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: unknown[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const length = this.peekLength();
      if (length > MAX_FRAME_BYTES) {
        throw new FrameError(`frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
      }
      if (this.buffered < 4 + length) break;
      const body = this.take(4 + length).subarray(4);
      try {
        frames.push(JSON.parse(body.toString('utf8')));
      } catch (error) {
        throw new FrameError(`frame is not JSON: ${(error as Error).message}`);
      }
    }
    return frames;
  }

  /** Bytes received that do not yet make a whole frame. */
  pending(): number {
    return this.buffered;
  }

  private peekLength(): number {
    const first = this.chunks[0];
    if (first && first.length >= 4) return first.readUInt32BE(0);
    const joined = Buffer.concat(this.chunks);
    this.chunks = [joined];
    return joined.readUInt32BE(0);
  }

  private take(size: number): Buffer {
    const joined = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const taken = joined.subarray(0, size);
    const rest = joined.subarray(size);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return taken;
  }
}

const ERROR_CODES: readonly string[] = ['INVALID_PARAMETER_VALUE', 'BAD_REQUEST', 'INTERNAL_ERROR'];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks a frame from the worker is one of the messages it may send; throws FrameError if not. */
export function readWorkerMessage(value: unknown): WorkerMessage {
  if (!isRecord(value)) throw new FrameError('worker frame is not a JSON object');
  if (value.event === 'ready') {
    if ((value.loader !== 'mlflow' && value.loader !== 'sklearn') || typeof value.pid !== 'number') {
      throw new FrameError('malformed ready event from the worker');
    }
    return { event: 'ready', loader: value.loader, pid: value.pid };
  }
  if (value.event === 'failed') {
    return { event: 'failed', message: typeof value.message === 'string' ? value.message : 'the worker failed' };
  }
  const id = value.id;
  if (id !== null && typeof id !== 'number') throw new FrameError('worker reply has no id');
  if (value.ok === true) {
    if (!('predictions' in value)) throw new FrameError(`worker reply ${id} has no predictions`);
    return { id, ok: true, predictions: value.predictions as Json };
  }
  if (value.ok === false) {
    const code =
      typeof value.error_code === 'string' && ERROR_CODES.includes(value.error_code)
        ? value.error_code
        : 'INTERNAL_ERROR';
    const message =
      typeof value.message === 'string' ? value.message : 'the worker answered an error without a message';
    const stack = typeof value.stack_trace === 'string' ? { stack_trace: value.stack_trace } : {};
    return { id, ok: false, error_code: code as WorkerErrorCode, message, ...stack };
  }
  throw new FrameError('worker frame is neither an event nor a reply');
}
