/**
 * One API Gateway API key per token, in the per-token usage plan: the key's value is what the
 * authorizer returns as the request's usage identifier, so API Gateway counts each token's
 * requests against the plan's limits.
 */
import {
  APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  GetApiKeysCommand,
  paginateGetUsagePlans,
} from '@aws-sdk/client-api-gateway';
import type { TokenKeys } from '../../core/auth/access';
import { usageKeyOf } from '../authorizer/app';
import { optionalEnv } from '../shared/config';

export class UsagePlanKeys implements TokenKeys {
  private planId?: Promise<string>;

  constructor(
    /** The usage plan's name (unique per stack; see ScoringApi.usagePlanName). */
    private readonly usagePlanName: string,
    private readonly client: APIGatewayClient = new APIGatewayClient({}),
  ) {}

  async created(tokenId: string): Promise<void> {
    const usagePlanId = await this.usagePlanId();
    const key = await this.client.send(
      new CreateApiKeyCommand({ name: usageKeyOf(tokenId), value: usageKeyOf(tokenId), enabled: true }),
    );
    await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId: key.id, keyType: 'API_KEY' }));
  }

  async revoked(tokenId: string): Promise<void> {
    const name = usageKeyOf(tokenId);
    const found = await this.client.send(new GetApiKeysCommand({ nameQuery: name, limit: 500 }));
    for (const key of found.items ?? []) {
      if (key.name === name && key.id) await this.client.send(new DeleteApiKeyCommand({ apiKey: key.id }));
    }
  }

  private usagePlanId(): Promise<string> {
    this.planId ??= this.findPlan().catch((error: unknown) => {
      this.planId = undefined;
      throw error;
    });
    return this.planId;
  }

  private async findPlan(): Promise<string> {
    for await (const page of paginateGetUsagePlans({ client: this.client }, { limit: 500 })) {
      const plan = page.items?.find((p) => p.name === this.usagePlanName);
      if (plan?.id) return plan.id;
    }
    throw new Error(`No API Gateway usage plan named ${this.usagePlanName}`);
  }
}

/** The keys of the usage plan USAGE_PLAN_NAME names; none where it is unset (no per-token limits). */
export function tokenKeysFromEnv(): TokenKeys | undefined {
  const plan = optionalEnv('USAGE_PLAN_NAME');
  return plan ? new UsagePlanKeys(plan) : undefined;
}
