/**
 * The registry table's key schema, in one place: the CDK construct and the local twin
 * both create the table from it.
 */
export const REGISTRY_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  indexes: [
    /** Every model by name (GSI1PK = 'MODEL') and every version (GSI1PK = 'VERSION'). */
    { name: 'ByKind', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
    /** Versions by the run they came from (sparse: only versions with a run id). */
    { name: 'ByRun', partitionKey: 'GSI2PK', sortKey: 'GSI2SK' },
  ],
} as const;
