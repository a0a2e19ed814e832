/**
 * Where environments' packages come from: the index URL (set, or read from a Secrets Manager
 * secret at start), an extra directory of wheels, or that directory alone. The URL may carry
 * credentials: it goes to the installer through its environment, and is never logged or shown.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';

export interface PackageIndex {
  /** The index installers use instead of PyPI (MLSERVE_PIP_INDEX_URL, or its secret). */
  readonly url?: string;
  /** A directory of wheels and source archives installers also look in (MLSERVE_PIP_FIND_LINKS). */
  readonly findLinks?: string;
  /** Install only from `findLinks`, never from an index (MLSERVE_PIP_NO_INDEX). */
  readonly noIndex: boolean;
}

/** The part of a Secrets Manager client this module uses (a stub in tests). */
export interface SecretReader {
  send(command: GetSecretValueCommand): Promise<{ SecretString?: string }>;
}

/**
 * The index URL held by the secret `secretArn`: its string value, or the `url` field of a JSON
 * object. Errors name the secret, never its value.
 */
export async function readIndexUrlSecret(secrets: SecretReader, secretArn: string): Promise<string> {
  let value: string | undefined;
  try {
    value = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    throw new Error(`could not read the package index secret ${secretArn}: ${(error as Error).name}`);
  }
  let url = value?.trim() ?? '';
  if (url.startsWith('{')) {
    const parsed = safeJson(url);
    url = typeof parsed?.url === 'string' ? parsed.url.trim() : '';
  }
  if (!/^https?:\/\/\S+$/.test(url)) {
    throw new Error(`the package index secret ${secretArn} holds no URL (a string, or JSON {"url": …})`);
  }
  return url;
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
