/**
 * The twin's online stores: feature lookups read DynamoDB tables on the twin's own
 * DynamoDB-API server, and Aurora MySQL tables on a local MariaDB server behind a local RDS
 * Data API endpoint (one cluster, `LOCAL_MYSQL_CLUSTER_ARN`, with its secret
 * `LOCAL_MYSQL_SECRET_ARN`). The operator's store configuration reaches the serving tasks
 * as on AWS, in `MLSERVE_ONLINE_STORES`; the Data API's address in `AWS_ENDPOINT_URL_RDS_DATA`.
 */
import path from 'node:path';
import { NO_ONLINE_STORES, type OnlineStores } from '../core/features/online-stores';
import { type LocalRdsData, startLocalRdsData } from './aws/local-rds-data';
import { type LocalMysql, startLocalMysql } from './local-mysql';

export const LOCAL_MYSQL_CLUSTER_ARN = 'arn:aws:rds:us-east-1:000000000000:cluster:mlserve-local';
export const LOCAL_MYSQL_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:mlserve-local-mysql';

export interface LocalOnlineStores {
  /** The stores the serving tasks may read: the operator's, and the demo's when it runs. */
  readonly config: OnlineStores;
  /** The MariaDB server behind the local cluster, when it runs. */
  readonly mysql?: LocalMysql;
  readonly dataApi?: LocalRdsData;
  /** What each serving task gets in its environment. */
  taskEnvironment(): Record<string, string>;
  close(): Promise<void>;
}

export async function startLocalOnlineStores(options: {
  /** The operator's stores. */
  readonly config?: OnlineStores;
  /** Run MariaDB and the Data API endpoint, with the server's data under this folder (undefined: a temporary one). */
  readonly mysql: false | { readonly dataDir?: string };
  /** More stores to serve (the demo's). */
  readonly extra?: OnlineStores;
}): Promise<LocalOnlineStores> {
  const base = options.config ?? NO_ONLINE_STORES;
  const config: OnlineStores = {
    stores: { ...options.extra?.stores, ...base.stores },
    featureTables: { ...options.extra?.featureTables, ...base.featureTables },
  };
  if (options.mysql === false) {
    return {
      config,
      taskEnvironment: () => environment(config),
      close: async () => undefined,
    };
  }
  const mysql = await startLocalMysql({
    dataDir: options.mysql.dataDir ? path.resolve(options.mysql.dataDir) : undefined,
  });
  let dataApi: LocalRdsData;
  try {
    dataApi = await startLocalRdsData({
      clusters: {
        [LOCAL_MYSQL_CLUSTER_ARN]: {
          secretArn: LOCAL_MYSQL_SECRET_ARN,
          connection: { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password },
        },
      },
    });
  } catch (error) {
    await mysql.close();
    throw error;
  }
  return {
    config,
    mysql,
    dataApi,
    taskEnvironment: () => ({ ...environment(config), AWS_ENDPOINT_URL_RDS_DATA: dataApi.endpoint }),
    close: async () => {
      await dataApi.close();
      await mysql.close();
    },
  };
}

function environment(config: OnlineStores): Record<string, string> {
  const empty = Object.keys(config.stores).length === 0;
  return empty ? {} : { MLSERVE_ONLINE_STORES: JSON.stringify(config) };
}
