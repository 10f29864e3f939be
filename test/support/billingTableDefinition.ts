import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { BILLING_TABLE_KEYS, BY_CUSTOMER_INDEX } from '../../src/records/keys.js';

/** The billing table as infrastructure.yaml declares it, for emulators in tests and benchmarks. */
export function billingTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [BILLING_TABLE_KEYS.partition, BILLING_TABLE_KEYS.sort, BY_CUSTOMER_INDEX.partition, BY_CUSTOMER_INDEX.sort].map((name) => ({
      AttributeName: name,
      AttributeType: 'S',
    })),
    KeySchema: [
      { AttributeName: BILLING_TABLE_KEYS.partition, KeyType: 'HASH' },
      { AttributeName: BILLING_TABLE_KEYS.sort, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_CUSTOMER_INDEX.name,
        KeySchema: [
          { AttributeName: BY_CUSTOMER_INDEX.partition, KeyType: 'HASH' },
          { AttributeName: BY_CUSTOMER_INDEX.sort, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
