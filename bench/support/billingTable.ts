import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { billingTableDefinition } from '../../test/support/billingTableDefinition.js';

export const BENCH_CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' } as const;

/** The billing table as infrastructure.yaml declares it, on a DynamoDB emulator (no test runner loaded). */
export async function createBillingTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: BENCH_CREDENTIALS });
  await client.send(new CreateTableCommand(billingTableDefinition(tableName)));
  client.destroy();
}
