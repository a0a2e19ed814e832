/** What the deploy-model workflow needs to know about the place it deploys to. */
export interface DeployModelSettings {
  readonly tableName: string;
  readonly clusterArn: string;
  readonly listenerArn: string;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly assignPublicIp: boolean;
  readonly image: string;
  readonly executionRoleArn: string;
  readonly taskRoleArn: string;
  readonly logGroupName: string;
  readonly region: string;
  readonly containerPort: number;
  /** Environment every serving task gets besides its model's (source roots, table, …). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * A fingerprint of what every serving task runs besides its model (the image, the
   * environment): a running task of another release is replaced even when its model's serving
   * revision is unchanged, so an upgrade of mlserve rolls every served model on the next run.
   */
  readonly release: string;
  /** Seconds between checks of the task's report while waiting for it. */
  readonly pollSeconds: number;
  /** How many checks before the deployment counts as failed. */
  readonly maxPolls: number;
}
