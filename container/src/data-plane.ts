/**
 * The data plane: a scoring request in (reference, Content-Type, body), an answer out
 * (status and JSON). It knows nothing of HTTP; the server hands it requests and writes
 * what it returns.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { type FeatureLookups, StoreUnavailableError } from './features/feature-lookups';
import type { ModelHost } from './host';
import { type Prediction, PredictionError, RuntimeUnavailableError } from './runtimes/runtime';
import type { Json, ScoringRequest } from './scoring/input';
import type { JsonText } from './scoring/json-text';
import { parseScoringRequest, ScoringError } from './scoring/parse';
import { answerProtocol, responseBody } from './scoring/respond';

export interface Answer {
  readonly status: number;
  /** The JSON answer, or its text in parts for a large one. */
  readonly body: Json | JsonText;
}

/** Bodies from this size on give other requests a turn between decoding and scoring. */
const LARGE_BODY_BYTES = 1024 * 1024;

/** Longest error message answered; a model's or a parser's message can quote a huge request back. */
const MAX_MESSAGE_CHARS = 4096;

export const errorAnswer = (status: number, errorCode: string, message: string): Answer => ({
  status,
  body: {
    error_code: errorCode,
    message:
      message.length > MAX_MESSAGE_CHARS
        ? `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length - MAX_MESSAGE_CHARS} more characters)`
        : message,
  },
});

export class DataPlane {
  constructor(
    private readonly host: ModelHost,
    private readonly options: {
      readonly timeoutMs: number;
      readonly logger: Logger;
      /** Deepest JSON nesting a request body may have (default 64). */
      readonly maxJsonDepth?: number;
    },
  ) {}

  /** Bytes of memory per body byte a request for `ref` takes at its peak, when the version it names is known. */
  memoryPerBodyByte(ref: string): number | undefined {
    try {
      return this.host.resolve(ref).runtime?.memoryPerBodyByte;
    } catch {
      return undefined;
    }
  }

  /** Scores `body` with the version `ref` names now (a number, a stage or `@alias`). */
  async invoke(ref: string, contentType: string | undefined, body: Buffer): Promise<Answer> {
    let served: ReturnType<ModelHost['resolve']>;
    try {
      served = this.host.resolve(ref);
    } catch (error) {
      return this.fail(error);
    }
    const started = performance.now();
    served.begin();
    try {
      const answer = await this.predict(served, contentType, body);
      served.metrics.record(performance.now() - started, answer.status);
      return answer;
    } finally {
      served.end();
    }
  }

  private async predict(
    served: ReturnType<ModelHost['resolve']>,
    contentType: string | undefined,
    body: Buffer,
  ): Promise<Answer> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const request = parseScoringRequest(contentType, body, { maxDepth: this.options.maxJsonDepth });
      // Decoding a large body is one long step; let other requests run before the next one.
      if (body.length >= LARGE_BODY_BYTES) await new Promise<void>((resolve) => setImmediate(resolve));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ScoringError(
                504,
                'DEADLINE_EXCEEDED',
                `Version ${served.version} of model '${this.host.modelName}' did not answer within ${this.options.timeoutMs} ms.`,
              ),
            ),
          this.options.timeoutMs,
        );
      });
      const prediction = await Promise.race([this.score(served, request), timeout]);
      const protocol = answerProtocol(request.protocol, this.host.mlflowVersionOf(served.version));
      return { status: 200, body: responseBody(protocol, prediction.text ?? prediction.predictions) };
    } catch (error) {
      return this.fail(error, served.version);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Looks up the version's features (when it has any), then asks its runtime. */
  private async score(served: ReturnType<ModelHost['resolve']>, request: ScoringRequest): Promise<Prediction> {
    if (!served.features) return served.submit(request);
    const started = performance.now();
    let enriched: Awaited<ReturnType<FeatureLookups['enrich']>>;
    try {
      enriched = await served.features.enrich(request.input);
    } catch (error) {
      if (error instanceof StoreUnavailableError) {
        served.metrics.recordLookup(performance.now() - started, 'failed');
        this.options.logger.warn('feature lookup failed', { version: served.version, store: error.storeName, error });
      }
      throw error;
    }
    served.metrics.recordLookup(performance.now() - started, enriched.stats);
    return served.submit({ ...request, input: enriched.input });
  }

  private fail(error: unknown, version?: number): Answer {
    if (error instanceof ScoringError) return errorAnswer(error.status, error.errorCode, error.message);
    if (error instanceof PredictionError) return errorAnswer(400, error.errorCode, error.message);
    if (error instanceof RuntimeUnavailableError) return errorAnswer(503, 'TEMPORARILY_UNAVAILABLE', error.message);
    this.options.logger.error('prediction failed', { version, error: error as Error });
    const message = error instanceof Error ? error.message : String(error);
    return errorAnswer(500, 'INTERNAL_ERROR', `Prediction failed: ${message}`);
  }
}
