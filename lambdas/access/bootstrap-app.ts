/**
 * The first admin token on AWS: a CloudFormation custom resource makes it at deploy time, stores
 * its hash in the registry table (as every token) and its secret in Secrets Manager, where the
 * operator reads it once. Redeploys leave a live admin token as it is.
 */
import type { AccessControl } from '../../core/auth/access';

export interface SecretSink {
  put(secret: string): Promise<void>;
}

export interface CustomResourceEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
}

export function createBootstrap(access: AccessControl, sink: SecretSink) {
  return async (event: CustomResourceEvent): Promise<{ PhysicalResourceId: string; Data: { created: string } }> => {
    const PhysicalResourceId = event.PhysicalResourceId ?? 'mlserve-admin-token';
    // Deleting the stack keeps the token and the secret: the registry is retained.
    if (event.RequestType === 'Delete') return { PhysicalResourceId, Data: { created: 'false' } };
    const { secret } = await access.bootstrapAdmin('admin');
    if (secret) await sink.put(secret);
    return { PhysicalResourceId, Data: { created: String(secret !== undefined) } };
  };
}
