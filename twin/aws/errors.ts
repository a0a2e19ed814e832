/**
 * Errors named as Step Functions names AWS SDK integration errors (`Ecs.ServiceNotFoundException`,
 * `DynamoDB.ConditionalCheckFailedException`), so the state machine's Catch clauses match locally.
 */
export class AwsServiceError extends Error {
  constructor(service: string, code: string, message: string) {
    super(message);
    this.name = `${service}.${code}`;
  }
}
