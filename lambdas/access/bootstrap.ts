/** Lambda entry: the admin-token custom resource (see bootstrap-app.ts). */
import { PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requiredEnv } from '../shared/config';
import { accessFromEnv } from '../shared/registry-from-env';
import { createBootstrap } from './bootstrap-app';
import { tokenKeysFromEnv } from './usage-plan-keys';

const secrets = new SecretsManagerClient({});
const secretId = requiredEnv('ADMIN_TOKEN_SECRET_ARN');

export const handler = createBootstrap(accessFromEnv(tokenKeysFromEnv()), {
  put: async (secret) =>
    void (await secrets.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: secret }))),
});
