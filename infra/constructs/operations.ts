import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IRule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface OperationsProps {
  readonly api: RestApi;
  readonly stateMachine: IStateMachine;
  /** The rule matching serving tasks that stopped on their own. */
  readonly taskStoppedRule: IRule;
  /** The dead-letter queue of the deploy triggers and the registration check. */
  readonly deadLetterQueue: IQueue;
  /** The model host's metrics namespace. @default 'mlserve' */
  readonly metricsNamespace?: string;
  /**
   * Where alarms send email (an SNS subscription the address must confirm).
   * @default - no topic; alarms show on the dashboard and in the console only
   */
  readonly alarmEmail?: string;
  /** @default 5 - percent of API requests answered 5xx, over 5 minutes */
  readonly serverErrorPercent?: number;
  /** @default 2000 - milliseconds, the API's p99 latency over 5 minutes */
  readonly p99LatencyMs?: number;
  /** @default 3 - serving tasks stopping on their own within 15 minutes */
  readonly restartsPer15Minutes?: number;
}

const FIVE_MINUTES = Duration.minutes(5);

/**
 * The operator's view: one dashboard (API traffic, per-model requests/errors/latency from the
 * model hosts' metrics, deploy executions, task restarts, dead letters) and five alarms (5xx
 * rate, p99 latency, failed deploys, restart loops, dead letters), optionally emailed through
 * an encrypted SNS topic.
 */
export class Operations extends Construct {
  public readonly dashboard: Dashboard;
  public readonly alarms: {
    readonly serverErrors: Alarm;
    readonly latency: Alarm;
    readonly failedDeploys: Alarm;
    readonly restartLoop: Alarm;
    readonly deadLetters: Alarm;
  };
  public readonly topic?: Topic;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const namespace = props.metricsNamespace ?? 'mlserve';
    const requests = props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' });
    const serverErrors = props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const clientErrors = props.api.metricClientError({ period: FIVE_MINUTES, statistic: 'Sum' });
    const p99 = props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p99' });
    const errorRate = new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: FIVE_MINUTES,
      label: '5xx %',
    });
    const deployFailures = new MathExpression({
      expression: 'FILL(failed, 0) + FILL(timedOut, 0)',
      usingMetrics: {
        failed: props.stateMachine.metricFailed({ period: FIVE_MINUTES }),
        timedOut: props.stateMachine.metricTimedOut({ period: FIVE_MINUTES }),
      },
      period: FIVE_MINUTES,
      label: 'failed deploys',
    });
    const restarts = new Metric({
      namespace: 'AWS/Events',
      metricName: 'MatchedEvents',
      dimensionsMap: { RuleName: props.taskStoppedRule.ruleName },
      statistic: 'Sum',
      period: Duration.minutes(15),
      label: 'tasks stopped on their own',
    });
    const deadLetters = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: FIVE_MINUTES,
      statistic: 'Maximum',
    });
    // One line per model version, each labelled by its dimensions.
    const perModel = (metric: string, stat: string): IMetric =>
      new MathExpression({
        expression: `SEARCH('{${namespace},Model,Version} MetricName="${metric}"', '${stat}', 300)`,
        usingMetrics: {},
        period: FIVE_MINUTES,
      });

    this.alarms = {
      serverErrors: new Alarm(this, 'ServerErrorRate', {
        alarmDescription: 'More than the allowed share of API requests answered 5xx.',
        metric: errorRate,
        threshold: props.serverErrorPercent ?? 5,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      latency: new Alarm(this, 'P99Latency', {
        alarmDescription: "The API's p99 latency is above the allowed time.",
        metric: p99,
        threshold: props.p99LatencyMs ?? 2000,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      failedDeploys: new Alarm(this, 'FailedDeploys', {
        alarmDescription: 'A deploy-model execution failed or timed out (see the model’s serving events).',
        metric: deployFailures,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      restartLoop: new Alarm(this, 'RestartLoop', {
        alarmDescription: 'Serving tasks keep stopping on their own (a crash or health-check loop).',
        metric: restarts,
        threshold: props.restartsPer15Minutes ?? 3,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      deadLetters: new Alarm(this, 'DeadLetters', {
        alarmDescription:
          'An event or invocation the deploy triggers or the registration check could not handle is in the dead-letter queue.',
        metric: deadLetters,
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    };

    if (props.alarmEmail) {
      // CloudWatch may only publish to a topic whose key lets it; AWS's own SNS key does not.
      const key = new Key(this, 'AlarmKey', {
        description: 'mlserve: encrypts the alarm topic',
        enableKeyRotation: true,
      });
      key.addToResourcePolicy(
        new PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          resources: ['*'],
        }),
      );
      this.topic = new Topic(this, 'Alarms', { masterKey: key, enforceSSL: true, displayName: 'mlserve alarms' });
      const email = new EmailSubscription(props.alarmEmail);
      this.topic.addSubscription(email);
      Validations.of(this.topic).acknowledge({
        id: 'Serverless::Serverless-SNSRedrivePolicy',
        reason: 'Alarm emails only: SNS retries email delivery itself, and an alarm stays visible in CloudWatch.',
      });
      const action = new SnsAction(this.topic);
      for (const alarm of Object.values(this.alarms)) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${stack.stackName}-operations`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# mlserve\nAPI traffic, per-model scoring (from the model hosts), deploy-model executions, serving-task restarts and dead letters.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'API requests', left: [requests], right: [clientErrors, serverErrors], width: 8 }),
      new GraphWidget({
        title: 'API latency',
        left: [props.api.metricLatency({ period: FIVE_MINUTES, statistic: 'p50' }), p99],
        width: 8,
      }),
      new GraphWidget({ title: '5xx rate (%)', left: [errorRate], width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'Requests per model version', left: [perModel('Requests', 'Sum')], width: 8 }),
      new GraphWidget({
        title: 'Server errors per model version',
        left: [perModel('ServerErrors', 'Sum')],
        width: 8,
      }),
      new GraphWidget({
        title: 'p99 latency per model version (ms)',
        left: [perModel('Latency', 'p99')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Deploy executions',
        left: [
          props.stateMachine.metricStarted({ period: FIVE_MINUTES }),
          props.stateMachine.metricSucceeded({ period: FIVE_MINUTES }),
          props.stateMachine.metricFailed({ period: FIVE_MINUTES }),
          props.stateMachine.metricTimedOut({ period: FIVE_MINUTES }),
        ],
        width: 8,
      }),
      new GraphWidget({ title: 'Serving tasks stopped on their own', left: [restarts], width: 8 }),
      new GraphWidget({
        title: 'Dead-letter queue (messages)',
        left: [deadLetters.with({ label: 'messages' })],
        width: 8,
      }),
    );
    // Versions with a feature spec: the time their lookups add, and keys the stores lacked or failed on.
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Feature lookups: p99 latency per model version (ms)',
        left: [perModel('FeatureLookupLatency', 'p99')],
        width: 12,
      }),
      new GraphWidget({
        title: 'Feature lookups: misses and failures per model version',
        left: [perModel('FeatureLookupMisses', 'Sum')],
        right: [perModel('FeatureLookupFailures', 'Sum')],
        width: 12,
      }),
    );
  }
}
