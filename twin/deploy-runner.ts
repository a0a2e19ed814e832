/**
 * Runs the deploy-model state machine in the local twin as Step Functions does: the same
 * definition, executed by a local ASL interpreter, its DynamoDB tasks against the local
 * DynamoDB-API server and its ECS and load-balancer tasks against the twin's stand-ins. Each
 * start runs at once, beside any other; executions for one model settle it among themselves
 * through the definition's run claim (a late one leaves its request to the run in progress).
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { StateMachine } from 'aws-local-stepfunctions';
import type { DeployModelInput } from '../core/deploy/triggers';
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
  readonly onOutcome?: (outcome: ExecutionOutcome) => void;
}

/** An execution in progress: its model and the state it is in (the execution's history so far). */
export interface ExecutionProgress {
  readonly modelName: string;
  readonly executionName: string;
  readonly reason: string;
  /** The states entered so far, in order. */
  readonly states: readonly string[];
}

export interface ExecutionOutcome extends ExecutionProgress {
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
  private readonly running = new Map<
    string,
    { progress: ExecutionProgress; done: Promise<void>; abort?: () => void }
  >();
  readonly outcomes: ExecutionOutcome[] = [];
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

  /**
   * Starts an execution (Step Functions' StartExecution): it runs from now on, beside any other;
   * the returned promise settles once it started, not when it ends.
   */
  async start(name: string, input: DeployModelInput): Promise<void> {
    if (this.closed) throw new Error(`the deploy workflow is stopped; ${name} not started`);
    if (this.running.has(name)) throw new Error(`an execution named ${name} is already running`);
    // This runner is the twin's only executor: a claim older than its start belongs to an
    // execution of an earlier run of the twin (stopped or crashed), so it may be taken over.
    const staleBefore = new Date(Math.max(Date.parse(input.staleBefore), this.startedAt)).toISOString();
    const progress = { modelName: input.modelName, executionName: name, reason: input.reason, states: [] as string[] };
    const entry: { progress: ExecutionProgress; done: Promise<void>; abort?: () => void } = {
      progress,
      done: Promise.resolve(),
    };
    entry.done = this.execute({ ...input, staleBefore }, progress, entry).finally(() => this.running.delete(name));
    this.running.set(name, entry);
  }

  /** The executions in progress (of one model, or all), with the states each has been through. */
  inProgress(modelName?: string): ExecutionProgress[] {
    return [...this.running.values()]
      .map((e) => ({ ...e.progress, states: [...e.progress.states] }))
      .filter((p) => modelName === undefined || p.modelName === modelName);
  }

  /**
   * Resolves when no execution runs, and none started for a short while (a trigger still on
   * its way may start one just after the last ends).
   */
  async idle(settleMs = 60): Promise<void> {
    for (;;) {
      while (this.running.size > 0) await Promise.all([...this.running.values()].map((e) => e.done));
      await new Promise((r) => setTimeout(r, settleMs));
      if (this.running.size === 0) return;
    }
  }

  private async execute(
    input: DeployModelInput,
    progress: { readonly executionName: string; readonly modelName: string; readonly reason: string; states: string[] },
    entry: { abort?: () => void },
  ): Promise<void> {
    const name = progress.executionName;
    let status: ExecutionOutcome['status'] = 'SUCCEEDED';
    let error: string | undefined;
    try {
      const execution = this.machine.run(input as never, {
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
      entry.abort = execution.abort;
      // The execution's history: which states it went through (the run claim, converging again).
      const history = (async () => {
        for await (const e of execution.eventLogs) {
          const ev = e as { type: string; state?: { name: string }; Error?: string; Cause?: string };
          if (ev.type === 'StateEntered' && ev.state) progress.states.push(ev.state.name);
          if (process.env.MLSERVE_TRACE_DEPLOY) {
            process.stderr.write(
              `[deploy ${name.slice(-6)}] ${ev.type} ${ev.state?.name ?? ''} ${ev.Error ?? ''} ${ev.Cause ?? ''}\n`,
            );
          }
        }
      })();
      try {
        await execution.result;
      } finally {
        await history;
      }
    } catch (failure) {
      status = 'FAILED';
      error = (failure as Error).message;
    }
    const outcome: ExecutionOutcome = { ...progress, states: [...progress.states], status, error };
    this.outcomes.push(outcome);
    this.options.onOutcome?.(outcome);
  }

  /** Stops: running executions are aborted (the reconcile redoes them on the next start). */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.running.values()) entry.abort?.();
    await Promise.allSettled([...this.running.values()].map((e) => e.done));
    this.dynamo.close();
  }
}
