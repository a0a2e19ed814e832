import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ICluster } from 'aws-cdk-lib/aws-ecs';
import { type EventPattern as CdkEventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  RECONCILE_SCHEDULE,
  REGISTRY_EVENTS_RULE,
  taskStoppedRule,
  VERSION_CREATED_RULE,
} from '../../core/deploy/event-rules';
import type { EventPattern } from '../../core/events/event-pattern';
import { REGISTRY_TABLE_SCHEMA } from '../../core/table/layout';
import { MlserveFunction } from './mlserve-function';

export interface DeployTriggersProps {
  readonly table: ITableV2;
  readonly eventBus: IEventBus;
  readonly stateMachine: IStateMachine;
  readonly cluster: ICluster;
  /** The registration check, run on every ModelVersionCreated event. */
  readonly registrationCheck: IFunction;
  readonly sourceRoots: string;
  /**
   * How often every served model is reconciled.
   * @default - every RECONCILE_SCHEDULE.everyMinutes (5) minutes
   */
  readonly reconcileEvery?: Duration;
}

/**
 * What starts deploy-model executions: EventBridge rules for the registry's serving-relevant
 * events and for serving tasks that stop on their own, and an EventBridge Scheduler reconcile —
 * all through the deploy trigger Lambda. Also routes ModelVersionCreated to the registration check.
 */
export class DeployTriggers extends Construct {
  public readonly triggerFunction: MlserveFunction;
  /** Matches serving tasks that stopped on their own (its match count is the restart rate). */
  public readonly taskStoppedRule: Rule;
  /**
   * Events that could not be handled: deliveries EventBridge gave up on, and invocations of the
   * trigger and registration-check functions that failed after Lambda's retries. Kept 14 days.
   */
  public readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, props: DeployTriggersProps) {
    super(scope, id);
    this.triggerFunction = new MlserveFunction(this, 'Trigger', {
      entry: 'lambdas/deploy/trigger.ts',
      environment: {
        REGISTRY_TABLE: props.table.tableName,
        MLSERVE_SOURCE_ROOTS: props.sourceRoots,
        EVENT_BUS_NAME: props.eventBus.eventBusName,
        DEPLOY_STATE_MACHINE_ARN: props.stateMachine.stateMachineArn,
      },
      timeoutSeconds: 60,
    });
    this.triggerFunction.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:BatchGetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
        ],
        resources: [
          props.table.tableArn,
          ...REGISTRY_TABLE_SCHEMA.indexes.map((index) => `${props.table.tableArn}/index/${index.name}`),
        ],
      }),
    );
    props.stateMachine.grantStartExecution(this.triggerFunction);

    this.deadLetters = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    for (const id of ['AwsSolutions::AwsSolutions-SQS3', 'Serverless::Serverless-SQSRedrivePolicy']) {
      Validations.of(this.deadLetters).acknowledge({
        id,
        reason: 'This queue is itself the dead-letter queue of the rules and functions (EventBridge and Lambda).',
      });
    }
    for (const fn of [this.triggerFunction, props.registrationCheck]) {
      const cfn = fn.node.defaultChild as CfnFunction;
      cfn.deadLetterConfig = { targetArn: this.deadLetters.queueArn };
      this.deadLetters.grantSendMessages(fn);
    }
    const target = (fn: IFunction) => new LambdaFunction(fn, { retryAttempts: 4, deadLetterQueue: this.deadLetters });

    new Rule(this, 'RegistryEvents', {
      eventBus: props.eventBus,
      description: REGISTRY_EVENTS_RULE.description,
      eventPattern: cdkEventPattern(REGISTRY_EVENTS_RULE.pattern),
      targets: [target(this.triggerFunction)],
    });
    new Rule(this, 'VersionCreated', {
      eventBus: props.eventBus,
      description: VERSION_CREATED_RULE.description,
      eventPattern: cdkEventPattern(VERSION_CREATED_RULE.pattern),
      targets: [target(props.registrationCheck)],
    });
    const taskStopped = taskStoppedRule(props.cluster.clusterArn);
    this.taskStoppedRule = new Rule(this, 'TaskStopped', {
      description: taskStopped.description,
      eventPattern: cdkEventPattern(taskStopped.pattern),
      targets: [target(this.triggerFunction)],
    });
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
    });
    new Schedule(this, 'Reconcile', {
      description: RECONCILE_SCHEDULE.description,
      schedule: ScheduleExpression.rate(props.reconcileEvery ?? Duration.minutes(RECONCILE_SCHEDULE.everyMinutes)),
      target: new LambdaInvoke(this.triggerFunction, {
        input: ScheduleTargetInput.fromObject(RECONCILE_SCHEDULE.input),
        role: schedulerRole,
        deadLetterQueue: this.deadLetters,
      }),
    });
    const fnId = Stack.of(this).getLogicalId(this.triggerFunction.node.defaultChild as CfnElement);
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
      reason: 'The scheduler may invoke the trigger function and its versions (function ARN with :*), nothing else.',
    });
  }
}

/** A rule's pattern (EventBridge's JSON form) in the form CDK takes: `detailType` for `detail-type`. */
function cdkEventPattern(pattern: EventPattern): CdkEventPattern {
  const { 'detail-type': detailType, ...fields } = pattern;
  return { ...fields, ...(detailType ? { detailType } : {}) } as CdkEventPattern;
}
