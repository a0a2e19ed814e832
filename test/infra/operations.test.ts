import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MockIntegration, RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, Pass, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { Operations } from '../../infra/constructs/operations';
import { nagFindings } from '../helpers/nag';

/** A stack holding the operations view of an API, a state machine, a task-stopped rule and a dead-letter queue. */
function operationsStack(app: App, alarmEmail?: string) {
  const stack = new Stack(app, 'Ops', { env: { account: '123456789012', region: 'eu-west-1' } });
  const api = new RestApi(stack, 'Api', { restApiName: 'mlserve' });
  api.root.addMethod('GET', new MockIntegration());
  const stateMachine = new StateMachine(stack, 'Machine', {
    definitionBody: DefinitionBody.fromChainable(new Pass(stack, 'Done')),
  });
  const taskStoppedRule = new Rule(stack, 'TaskStopped', { eventPattern: { source: ['aws.ecs'] } });
  const deadLetterQueue = new Queue(stack, 'DeadLetters');
  const ops = new Operations(stack, 'Operations', { api, stateMachine, taskStoppedRule, deadLetterQueue, alarmEmail });
  return { stack, ops };
}

describe('Operations', () => {
  const quiet = Template.fromStack(operationsStack(new App()).stack);
  const emailed = Template.fromStack(operationsStack(new App(), 'ops@example.com').stack);

  it('alarms on the 5xx rate, p99 latency, failed deploys and restart loops, with the documented defaults', () => {
    quiet.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' })]),
    });
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      ExtendedStatistic: 'p99',
      Threshold: 2000,
    });
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(failed, 0) + FILL(timedOut, 0)' })]),
    });
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 3,
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: {
              Namespace: 'AWS/Events',
              MetricName: 'MatchedEvents',
              Dimensions: [{ Name: 'RuleName', Value: { Ref: Match.stringLikeRegexp('TaskStopped') } }],
            },
            Period: 900,
            Stat: 'Sum',
          },
        }),
      ],
    });
  });

  it('sends no notifications and makes no topic without an address', () => {
    quiet.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(quiet.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmActions?: unknown[] };
    }[])
      expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('emails every alarm and its recovery through a KMS-encrypted, TLS-only topic CloudWatch may use', () => {
    emailed.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    emailed.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    emailed.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    emailed.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    const alarms = Object.values(emailed.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmActions: unknown[]; OKActions: unknown[] };
    }[];
    expect(alarms).toHaveLength(5);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(alarm.Properties.OKActions).toHaveLength(1);
    }
  });

  it('graphs API traffic, each model version from the hosts’ metrics (feature lookups too), deploy executions and restarts', () => {
    const [dashboard] = Object.values(quiet.findResources('AWS::CloudWatch::Dashboard')) as {
      Properties: { DashboardName: string; DashboardBody: unknown };
    }[];
    expect(dashboard?.Properties.DashboardName).toBe('Ops-operations');
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of [
      'Requests',
      'ServerErrors',
      'Latency',
      'FeatureLookupLatency',
      'FeatureLookupMisses',
      'FeatureLookupFailures',
    ])
      expect(body).toContain(`SEARCH('{mlserve,Model,Version} MetricName=\\\\\\"${metric}\\\\\\"'`);
    for (const title of [
      'API requests',
      'API latency',
      'Deploy executions',
      'Serving tasks stopped on their own',
      'Dead-letter queue (messages)',
    ])
      expect(body).toContain(title);
    expect(body).toContain('ExecutionsFailed');
    expect(body).toContain('MatchedEvents');
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
  });

  it('alarms as soon as anything lands in the dead-letter queue (its maximum depth over 5 minutes ≥ 1)', () => {
    const [queueId] = Object.keys(quiet.findResources('AWS::SQS::Queue'));
    quiet.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('emails the dead-letter alarm through the same topic as the others', () => {
    const [topicId] = Object.keys(emailed.findResources('AWS::SNS::Topic'));
    emailed.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      AlarmActions: [{ Ref: topicId }],
      OKActions: [{ Ref: topicId }],
    });
  });

  it("passes cdk-nag's AWS Solutions checks for its own resources", () => {
    expect(nagFindings((app) => operationsStack(app, 'ops@example.com'), '/Operations/')).toEqual([]);
  }, 120_000);
});
