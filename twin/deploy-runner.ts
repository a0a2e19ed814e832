/**
 * Runs the deploy-model state machine in the local twin: the same definition as on AWS,
 * executed by a local ASL interpreter, its DynamoDB tasks against the local DynamoDB-API
 * server and its ECS and load-balancer tasks against the twin's stand-ins. Requests for one
 * model are serialized and a burst of them collapses into one execution, as the definition's
 * run claim does on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import { deployInput, executionName } from '../core/deploy/triggers';
import { dynamoDbTasks } from './aws/local-dynamodb-tasks';
import type { LocalEcs } from './aws/local-ecs';
import type { LocalLoadBalancer } from './aws/local-load-balancer';

export interface DeployRunnerOptions {
  readonly definition: Record<string, unknown>;
  readonly dynamodb: DynamoDBClientConfig;
  readonly ecs: LocalEcs;
  readonly loadBalancer: LocalLoadBalancer;
  /** How long the `Wait` states wait, in ms (the definition's seconds, shortened). */
  readonly waitMs: number;
  /** Pause between retries of a task, in ms. */
  readonly retryMs?: number;
  /** How long to collect requests for a model before starting its execution. */
  readonly debounceMs?: number;
  readonly onOutcome?: (outcome: ExecutionOutcome) => void;
}

export interface ExecutionOutcome {
  readonly modelName: string;
  readonly executionName: string;
  readonly reasons: readonly string[];
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly error?: string;
}

type Handler = (input: Record<string, unknown>) => Promise<unknown>;

export class DeployRunner {
  private readonly machine: StateMachine;
  private readonly handlers: Record<string, Handler> = {};
  private readonly waits: Record<string, number> = {};
  private readonly retries: Record<string, number> = {};
  private readonly dynamo: ReturnType<typeof dynamoDbTasks>;
  private readonly models = new Map<string, { running?: Promise<void>; queued?: NodeJS.Timeout; reasons: string[] }>();
  readonly outcomes: ExecutionOutcome[] = [];
  private readonly aborts = new Set<() => void>();
  private closed = false;
  private readonly startedAt = Date.now();

  constructor(private readonly options: DeployRunnerOptions) {
    this.machine = new StateMachine(options.definition as never, {
      validationOptions: { checkPaths: true, checkArn: true },
    });
    this.dynamo = dynamoDbTasks(options.dynamodb);
    const states = options.definition.States as Record<string, { Type: string; Resource?: string; Retry?: unknown }>;
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Wait') this.waits[name] = options.waitMs;
      if (state.Retry) this.retries[name] = options.retryMs ?? 50;
      if (state.Type !== 'Task' || !state.Resource) continue;
      this.handlers[name] = this.handlerFor(name, state.Resource);
    }
  }

  private handlerFor(stateName: string, resource: string): Handler {
    const ddb = this.dynamo.task(resource);
    if (ddb) return ddb;
    const sdk = /^arn:aws:states:::aws-sdk:(ecs|elasticloadbalancingv2):(\w+)$/.exec(resource);
    if (sdk) {
      const target = (sdk[1] === 'ecs' ? this.options.ecs : this.options.loadBalancer) as unknown as Record<
        string,
        ((p: Record<string, unknown>) => unknown) | undefined
      >;
      const method = target[sdk[2] as string];
      if (typeof method === 'function') return async (input) => method.call(target, input);
    }
    throw new Error(`The local twin cannot run state ${stateName}: no local stand-in for ${resource}`);
  }

  /** Asks for a convergence of `modelName`; requests close together run as one execution. */
  request(modelName: string, reason: string): void {
    const entry = this.models.get(modelName) ?? { reasons: [] };
    this.models.set(modelName, entry);
    entry.reasons.push(reason);
    if (entry.queued) return;
    entry.queued = setTimeout(() => {
      entry.queued = undefined;
      const previous = entry.running ?? Promise.resolve();
      // The reasons are taken when the execution starts, not when it is queued: everything that
      // arrived while an earlier one ran joins the next one, so a burst runs at most two.
      const run = previous.then(async () => {
        const reasons = entry.reasons.splice(0);
        if (reasons.length > 0) await this.execute(modelName, reasons);
      });
      entry.running = run;
      // Only the last chained execution clears `running`: an earlier one finishing must not
      // hide one still waiting behind it (idle() would return too soon).
      const settle = () => {
        if (entry.running === run && !entry.queued) entry.running = undefined;
      };
      void run.then(settle, settle);
    }, this.options.debounceMs ?? 50);
  }

  /** Resolves when no execution is queued or running. */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.models.values()].filter((e) => e.queued || e.running);
      if (busy.length === 0) return;
      await Promise.all(busy.map((e) => e.running));
      await new Promise((r) => setTimeout(r, (this.options.debounceMs ?? 50) + 10));
      if ([...this.models.values()].every((e) => !e.queued)) {
        const running = [...this.models.values()].map((e) => e.running);
        await Promise.all(running);
        if ([...this.models.values()].every((e) => !e.queued)) return;
      }
    }
  }

  private async execute(modelName: string, reasons: string[]): Promise<void> {
    if (this.closed) return;
    const name = executionName(modelName, randomUUID());
    let abort: (() => void) | undefined;
    // This runner is the twin's only executor: a claim older than its start belongs to an
    // execution of an earlier run of the twin (stopped or crashed), so it may be taken over.
    const base = deployInput(modelName, reasons.join('; '));
    const staleBefore = new Date(Math.max(Date.parse(base.staleBefore), this.startedAt)).toISOString();
    const input = { ...base, staleBefore };
    let outcome: ExecutionOutcome;
    try {
      const execution = this.machine.run(input, {
        overrides: {
          taskResourceLocalHandlers: this.handlers as never,
          waitTimeOverrides: this.waits,
          retryIntervalOverrides: this.retries,
        },
        context: {
          Execution: {
            Name: name,
            Id: `arn:aws:states:local:000000000000:execution:deploy-model:${name}`,
          },
          // Step Functions gives each state the time it was entered; the twin gives the time it is read.
          State: {
            get EnteredTime() {
              return new Date().toISOString();
            },
          },
        },
      });
      abort = execution.abort;
      this.aborts.add(abort);
      if (process.env.MLSERVE_TRACE_DEPLOY) {
        void (async () => {
          for await (const e of execution.eventLogs) {
            const ev = e as { type: string; state?: { name: string }; Error?: string; Cause?: string };
            process.stderr.write(
              `[deploy ${name.slice(-6)}] ${ev.type} ${ev.state?.name ?? ''} ${ev.Error ?? ''} ${ev.Cause ?? ''}\n`,
            );
          }
        })();
      }
      await execution.result;
      outcome = { modelName, executionName: name, reasons, status: 'SUCCEEDED' };
    } catch (error) {
      outcome = { modelName, executionName: name, reasons, status: 'FAILED', error: (error as Error).message };
    } finally {
      if (abort) this.aborts.delete(abort);
    }
    this.outcomes.push(outcome);
    this.options.onOutcome?.(outcome);
  }

  /** Stops: queued requests are dropped and running executions aborted (the reconcile redoes them on the next start). */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.models.values()) if (entry.queued) clearTimeout(entry.queued);
    for (const abort of this.aborts) abort();
    await Promise.allSettled([...this.models.values()].map((e) => e.running));
    this.dynamo.close();
  }
}
