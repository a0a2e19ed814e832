/**
 * Step Functions' DynamoDB service integrations (`arn:aws:states:::dynamodb:getItem` …) run
 * locally against the twin's DynamoDB-API server, with the same parameters and results.
 */
import {
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { AwsServiceError } from './errors';

const COMMANDS = {
  getItem: GetItemCommand,
  putItem: PutItemCommand,
  updateItem: UpdateItemCommand,
  deleteItem: DeleteItemCommand,
} as const;

export type DynamoDbTask = (parameters: Record<string, unknown>) => Promise<Record<string, unknown>>;

export function dynamoDbTasks(config: DynamoDBClientConfig): {
  task(resource: string): DynamoDbTask | undefined;
  close(): void;
} {
  const client = new DynamoDBClient(config);
  return {
    task(resource) {
      const m = /^arn:aws:states:::dynamodb:(getItem|putItem|updateItem|deleteItem)$/.exec(resource);
      if (!m) return undefined;
      // biome-ignore lint/suspicious/noExplicitAny: one constructor shape for the four commands
      const Command = COMMANDS[m[1] as keyof typeof COMMANDS] as unknown as new (input: any) => GetItemCommand;
      return async (parameters) => {
        try {
          // The parameters are the DynamoDB API's own, exactly as Step Functions passes them.
          const { $metadata: _, ...result } = await client.send(new Command(parameters));
          return result as Record<string, unknown>;
        } catch (error) {
          const e = error as Error;
          throw new AwsServiceError('DynamoDB', e.name, e.message);
        }
      };
    },
    close: () => client.destroy(),
  };
}
