/**
 * The data plane: a scoring request in (reference, Content-Type, body), an answer out
 * (status and JSON). It knows nothing of HTTP; the server hands it requests and writes
 * what it returns.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { Deadlines } from './deadlines';
import { errorAnswer, ScoringError, StoreUnavailableError, scoringErrorAnswer } from './errors';
import type { FeatureLookups } from './features/feature-lookups';
import type { Prediction } from './runtimes/runtime';
import type { Json, ScoringRequest } from './scoring/input';
import type { JsonText } from './scoring/json-text';
import { type ParseOptions, parseScoringRequest } from './scoring/parse';
import { answerProtocol, responseBody } from './scoring/respond';
import type { ServedVersion } from './served-version';

export interface Answer {
  readonly status: number;
  /** The JSON answer, or its text in parts for a large one. */
  readonly body: Json | JsonText;
}

/** Bodies from this size on give other requests a turn between decoding and scoring. */
const LARGE_BODY_BYTES = 1024 * 1024;

/** What the data plane asks of the host: the version a reference names now. */
export interface VersionResolver {
  /** The served version answering `ref`; throws a ScoringError (404, 503) naming why none does. */
  resolve(ref: string): ServedVersion;
}

export class DataPlane {
  /** The request time limit, one timer for all requests. */
  private readonly deadlines: Deadlines;
  private readonly parseOptions: ParseOptions;

  constructor(
    private readonly versions: VersionResolver,
    private readonly options: {
      readonly timeoutMs: number;
      readonly logger: Logger;
      /** Deepest JSON nesting a request body may have (default 64). */
      readonly maxJsonDepth?: number;
    },
  ) {
    this.deadlines = new Deadlines(options.timeoutMs);
    this.parseOptions = { maxDepth: options.maxJsonDepth };
  }

  /** Bytes of memory per body byte a request for `ref` takes at its peak, when the version it names is known. */
  memoryPerBodyByte(ref: string): number | undefined {
    try {
      return this.versions.resolve(ref).runtime?.memoryPerBodyByte;
    } catch {
      return undefined;
    }
  }

  /** Scores `body` with the version `ref` names now (a number, a stage or `@alias`). */
  async invoke(ref: string, contentType: string | undefined, body: Buffer): Promise<Answer> {
    let served: ServedVersion;
    try {
      served = this.versions.resolve(ref);
    } catch (error) {
      return this.fail(error);
    }
    const started = performance.now();
    served.begin();
    try {
      let answer: Answer;
      try {
        const request = parseScoringRequest(contentType, body, this.parseOptions);
        // Decoding a large body is one long step; let other requests run before the next one.
        if (body.length >= LARGE_BODY_BYTES) await new Promise<void>((resolve) => setImmediate(resolve));
        const version = served.version;
        const prediction = await this.deadlines.within(
          this.score(served, request),
          () =>
            new ScoringError(
              504,
              'DEADLINE_EXCEEDED',
              `Version ${version} of model '${served.modelName}' did not answer within ${this.options.timeoutMs} ms.`,
            ),
        );
        // Only a request valid in both protocols takes its answer's shape from the model's MLflow version.
        const mlflowVersion = request.protocol === 'either' ? served.mlflowVersion : undefined;
        const protocol = answerProtocol(request.protocol, mlflowVersion);
        answer = { status: 200, body: responseBody(protocol, prediction.text ?? prediction.predictions) };
      } catch (error) {
        answer = this.fail(error, served.version);
      }
      served.metrics.record(performance.now() - started, answer.status);
      return answer;
    } finally {
      served.end();
    }
  }

  /** Asks the version's runtime, after looking up its features when it has any. */
  private score(served: ServedVersion, request: ScoringRequest): Promise<Prediction> {
    return served.features ? this.enrichAndScore(served, served.features, request) : served.submit(request);
  }

  private async enrichAndScore(
    served: ServedVersion,
    features: FeatureLookups,
    request: ScoringRequest,
  ): Promise<Prediction> {
    const started = performance.now();
    let enriched: Awaited<ReturnType<FeatureLookups['enrich']>>;
    try {
      enriched = await features.enrich(request.input);
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

  /** A ScoringError is answered with its own status and code; anything else is the host's fault (500, logged). */
  private fail(error: unknown, version?: number): Answer {
    if (error instanceof ScoringError) return scoringErrorAnswer(error);
    this.options.logger.error('prediction failed', { version, error: error as Error });
    const message = error instanceof Error ? error.message : String(error);
    return errorAnswer(500, 'INTERNAL_ERROR', `Prediction failed: ${message}`);
  }
}
