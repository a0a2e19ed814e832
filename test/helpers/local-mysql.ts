import { RDSDataClient } from '@aws-sdk/client-rds-data';
import { type Connection, createConnection } from 'mysql2/promise';
import { type LocalRdsData, startLocalRdsData } from '../../twin/aws/local-rds-data';
import { type LocalMysql, startLocalMysql } from '../../twin/local-mysql';

export const CLUSTER_ARN = 'arn:aws:rds:us-east-1:123456789012:cluster:mlserve-features';
export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mlserve-features-AbCdEf';

/**
 * A throwaway MariaDB server with one database made from `schema`, behind the local RDS Data
 * API as the cluster `CLUSTER_ARN` (secret `SECRET_ARN`), and an SDK client that reaches it.
 */
export interface RdsDataEnv {
  readonly mysql: LocalMysql;
  readonly dataApi: LocalRdsData;
  readonly client: RDSDataClient;
  readonly database: string;
  /** A direct connection to the database, to prepare and inspect data behind the API's back. */
  readonly admin: Connection;
  close(): Promise<void>;
}

export async function startRdsDataEnv(options: { database: string; schema: readonly string[] }): Promise<RdsDataEnv> {
  const mysql = await startLocalMysql();
  try {
    const connection = { host: mysql.host, port: mysql.port, user: mysql.user, password: mysql.password };
    const admin = await createConnection(connection);
    await admin.query(`CREATE DATABASE \`${options.database}\``);
    await admin.changeUser({ database: options.database });
    for (const statement of options.schema) await admin.query(statement);
    const dataApi = await startLocalRdsData({ clusters: { [CLUSTER_ARN]: { secretArn: SECRET_ARN, connection } } });
    const client = new RDSDataClient(dataApi.clientConfig);
    return {
      mysql,
      dataApi,
      client,
      database: options.database,
      admin,
      close: async () => {
        client.destroy();
        await admin.end();
        await dataApi.close();
        await mysql.close();
      },
    };
  } catch (error) {
    await mysql.close();
    throw error;
  }
}
