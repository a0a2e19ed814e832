/**
 * The local twin's stand-in for ECS: task definitions, services with a desired count of one,
 * and tasks that are model host child processes. Like ECS, a service replaces a task that
 * stops, and a new task definition rolls a new task in (healthy first) before the old one
 * stops; a new task that never turns healthy is stopped and the old one keeps serving. Every
 * task that stops is announced as ECS does, by an `aws.ecs` "ECS Task State Change" event.
 */
import { randomUUID } from 'node:crypto';
import type { BusEntry } from '../../core/events/in-process-bus';
import { AwsServiceError } from './errors';
import type { HostTask } from './host-task';
import type { LocalLoadBalancer } from './local-load-balancer';

interface TaskDefinition {
  readonly arn: string;
  readonly family: string;
  readonly env: Record<string, string>;
}

interface Service {
  readonly name: string;
  taskDefinitionArn: string;
  desiredCount: number;
  targetGroupArn?: string;
  tasks: HostTask[];
  rollout?: Promise<void>;
  /** The task definition the last rollout tried and gave up on (the circuit breaker). */
  failedTaskDefinitionArn?: string;
}

export interface EcsState {
  taskDefinitions: { arn: string; family: string; env: Record<string, string> }[];
  services: { name: string; taskDefinitionArn: string; desiredCount: number; targetGroupArn?: string }[];
}

export interface LocalEcsOptions {
  readonly loadBalancer: LocalLoadBalancer;
  /** Creates (does not start) a task running the model host with this environment. */
  readonly newTask: (serviceName: string, taskDefinitionArn: string, env: Record<string, string>) => HostTask;
  /** The cluster this stand-in is: what its events name. */
  readonly clusterArn: string;
  /** Where ECS's events go (EventBridge's PutEvents): a task state change for every task that stops. */
  readonly putEvents: (entries: readonly BusEntry[]) => unknown;
  readonly onChange: () => void;
  readonly healthTimeoutMs?: number;
  readonly restartDelayMs?: number;
  readonly state?: EcsState;
}

const ecsError = (code: string, message: string) => new AwsServiceError('Ecs', code, message);

type Params = Record<string, unknown>;

/**
 * Why a task stopped, as ECS's stop codes say: on its own (`EssentialContainerExited`), never
 * started (`TaskFailedToStart`), replaced or removed by its service (`ServiceSchedulerInitiated`),
 * or stopped by the operator (`UserInitiated`).
 */
type StopCode = 'EssentialContainerExited' | 'TaskFailedToStart' | 'ServiceSchedulerInitiated' | 'UserInitiated';

export class LocalEcs {
  private readonly taskDefinitions = new Map<string, TaskDefinition>();
  private readonly services = new Map<string, Service>();
  private closed = false;

  constructor(private readonly options: LocalEcsOptions) {
    for (const td of options.state?.taskDefinitions ?? []) this.taskDefinitions.set(td.arn, { ...td });
    for (const s of options.state?.services ?? []) this.services.set(s.name, { ...s, tasks: [] });
  }

  state(): EcsState {
    return {
      taskDefinitions: [...this.taskDefinitions.values()],
      services: [...this.services.values()].map(({ name, taskDefinitionArn, desiredCount, targetGroupArn }) => ({
        name,
        taskDefinitionArn,
        desiredCount,
        targetGroupArn,
      })),
    };
  }

  /** Starts the tasks of services restored from saved state (after the twin restarts). */
  resume(): void {
    for (const service of this.services.values()) {
      if (service.desiredCount > 0) this.rollOut(service);
    }
  }

  /** The running tasks of the service serving a model (for status, logs and tests). */
  tasksOf(serviceName: string): readonly HostTask[] {
    return this.services.get(serviceName)?.tasks ?? [];
  }

  /** The running tasks serving a model (their task definition names it). */
  tasksForModel(modelName: string): readonly HostTask[] {
    return [...this.services.values()].flatMap((s) =>
      s.tasks.filter((t) => this.taskDefinitions.get(t.taskDefinitionArn)?.env.MLSERVE_MODEL_NAME === modelName),
    );
  }

  /** Waits for rollouts in progress (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([...this.services.values()].map((s) => s.rollout));
  }

  async close(): Promise<void> {
    this.closed = true;
    // The services keep their tasks and targets (the saved state is the one a restart resumes).
    const stopped = new Set<HostTask>();
    const stopAll = () =>
      Promise.all(
        [...this.services.values()].flatMap((s) =>
          s.tasks
            .filter((t) => !stopped.has(t))
            .map(async (t) => {
              stopped.add(t);
              await t.stop();
              this.announceStop(s, t, 'UserInitiated', 'stopped with the local twin');
            }),
        ),
      );
    // Stopping first ends a rollout that is waiting for its new task to turn healthy.
    await stopAll();
    await this.settled();
    await stopAll();
  }

  // ---- the ECS API calls the deploy workflow makes

  registerTaskDefinition(p: Params) {
    const family = String(p.Family);
    const revision = [...this.taskDefinitions.values()].filter((t) => t.family === family).length + 1;
    const container = ((p.ContainerDefinitions ?? []) as { Environment?: { Name: string; Value: string }[] }[])[0];
    const env = Object.fromEntries((container?.Environment ?? []).map((e) => [e.Name, String(e.Value)]));
    const arn = `arn:aws:ecs:local:000000000000:task-definition/${family}:${revision}`;
    this.taskDefinitions.set(arn, { arn, family, env });
    this.options.onChange();
    return { TaskDefinition: { TaskDefinitionArn: arn, Family: family, Revision: revision } };
  }

  createService(p: Params) {
    const name = String(p.ServiceName);
    if (this.services.has(name)) throw ecsError('InvalidParameterException', 'Creation of service was not idempotent.');
    const loadBalancers = (p.LoadBalancers ?? []) as { TargetGroupArn?: string }[];
    const service: Service = {
      name,
      taskDefinitionArn: this.requireTaskDefinition(String(p.TaskDefinition)).arn,
      desiredCount: Number(p.DesiredCount ?? 1),
      targetGroupArn: loadBalancers[0]?.TargetGroupArn,
      tasks: [],
    };
    this.services.set(name, service);
    this.options.onChange();
    this.rollOut(service);
    return { Service: { ServiceName: name, ServiceArn: `arn:aws:ecs:local:000000000000:service/mlserve/${name}` } };
  }

  updateService(p: Params) {
    const service = this.services.get(String(p.Service));
    if (!service) throw ecsError('ServiceNotFoundException', `Service ${String(p.Service)} not found.`);
    const arn = this.requireTaskDefinition(String(p.TaskDefinition ?? service.taskDefinitionArn)).arn;
    const changed = arn !== service.taskDefinitionArn;
    service.taskDefinitionArn = arn;
    service.desiredCount = Number(p.DesiredCount ?? service.desiredCount);
    if (changed) service.failedTaskDefinitionArn = undefined;
    this.options.onChange();
    if (changed || service.tasks.length < service.desiredCount) this.rollOut(service);
    return { Service: { ServiceName: service.name } };
  }

  async deleteService(p: Params) {
    const service = this.services.get(String(p.Service));
    if (!service) throw ecsError('ServiceNotFoundException', `Service ${String(p.Service)} not found.`);
    this.services.delete(service.name);
    this.options.onChange();
    await service.rollout;
    await Promise.all(
      service.tasks.map((t) => this.stopTask(service, t, 'ServiceSchedulerInitiated', 'Service deleted')),
    );
    return { Service: { ServiceName: service.name, Status: 'INACTIVE' } };
  }

  private requireTaskDefinition(arn: string): TaskDefinition {
    const td = this.taskDefinitions.get(arn);
    if (!td) throw ecsError('ClientException', `Task definition ${arn} does not exist.`);
    return td;
  }

  /** Brings the service to one healthy task of its task definition; one rollout at a time. */
  private rollOut(service: Service): void {
    const previous = service.rollout ?? Promise.resolve();
    service.rollout = previous.then(() => this.converge(service)).catch(() => undefined);
  }

  private async converge(service: Service): Promise<void> {
    if (this.closed || this.services.get(service.name) !== service || service.desiredCount < 1) return;
    const current = service.tasks.filter((t) => t.taskDefinitionArn === service.taskDefinitionArn);
    if (current.length > 0 || service.failedTaskDefinitionArn === service.taskDefinitionArn) return;
    const td = this.requireTaskDefinition(service.taskDefinitionArn);
    const task = this.options.newTask(service.name, td.arn, td.env);
    try {
      await task.start();
    } catch (error) {
      const exited = task.exited;
      await task.stop(1000);
      service.failedTaskDefinitionArn = td.arn;
      this.announceStop(
        service,
        task,
        exited ? 'EssentialContainerExited' : 'TaskFailedToStart',
        (error as Error).message,
      );
      return;
    }
    service.tasks.push(task);
    if (!(await task.healthy(this.options.healthTimeoutMs ?? 120_000))) {
      // The circuit breaker: the new task never turned healthy; the old tasks keep serving.
      service.failedTaskDefinitionArn = td.arn;
      await this.stopTask(service, task, 'ServiceSchedulerInitiated', 'Task failed container health checks');
      return;
    }
    if (service.targetGroupArn && task.url) this.options.loadBalancer.registerTarget(service.targetGroupArn, task.url);
    const old = service.tasks.filter((t) => t !== task);
    await Promise.all(
      old.map((t) => this.stopTask(service, t, 'ServiceSchedulerInitiated', 'Task replaced by a deployment')),
    );
  }

  private async stopTask(service: Service, task: HostTask, stopCode: StopCode, reason: string): Promise<void> {
    if (service.targetGroupArn && task.url)
      this.options.loadBalancer.deregisterTarget(service.targetGroupArn, task.url);
    service.tasks = service.tasks.filter((t) => t !== task);
    await task.stop();
    this.announceStop(service, task, stopCode, reason);
  }

  /** ECS's "ECS Task State Change" event for a task that stopped. */
  private announceStop(service: Service, task: HostTask, stopCode: StopCode, stoppedReason: string): void {
    const taskArn = `arn:aws:ecs:local:000000000000:task/${task.id}`;
    void Promise.resolve()
      .then(() =>
        this.options.putEvents([
          {
            source: 'aws.ecs',
            detailType: 'ECS Task State Change',
            resources: [taskArn],
            detail: {
              clusterArn: this.options.clusterArn,
              taskArn,
              taskDefinitionArn: task.taskDefinitionArn,
              group: `service:${service.name}`,
              lastStatus: 'STOPPED',
              desiredStatus: 'STOPPED',
              stopCode,
              stoppedReason,
              stoppedAt: new Date().toISOString(),
            },
          },
        ]),
      )
      .catch(() => undefined);
  }

  /** A task died on its own: take it out, announce it, and start a replacement (as ECS does). */
  taskExited(serviceName: string, task: HostTask, reason: string): void {
    const service = this.services.get(serviceName);
    if (!service?.tasks.includes(task)) return;
    if (service.targetGroupArn && task.url)
      this.options.loadBalancer.deregisterTarget(service.targetGroupArn, task.url);
    service.tasks = service.tasks.filter((t) => t !== task);
    this.announceStop(service, task, 'EssentialContainerExited', `Essential container in task exited (${reason})`);
    setTimeout(() => this.rollOut(service), this.options.restartDelayMs ?? 1000).unref();
  }

  static taskId(): string {
    return randomUUID().slice(0, 8);
  }
}
