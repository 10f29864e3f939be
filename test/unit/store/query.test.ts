import type { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { queryAll } from '../../../src/store/query.js';

describe('queryAll', () => {
  it('follows LastEvaluatedKey through every page, keeping the query and adding only the start key', async () => {
    const pages = [
      { Items: [{ sk: 'a' }, { sk: 'b' }], LastEvaluatedKey: { pk: 'P', sk: 'b' } },
      { Items: [], LastEvaluatedKey: { pk: 'P', sk: 'b2' } },
      { Items: [{ sk: 'c' }] },
    ];
    const sent: Array<QueryCommand['input']> = [];
    const dynamo = {
      send: async (command: QueryCommand) => (sent.push(command.input), pages[sent.length - 1]),
    } as unknown as DynamoDBDocumentClient;

    const items = await queryAll<{ sk: string }>(dynamo, { TableName: 't', KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'P' } });

    expect(items.map((item) => item.sk)).toEqual(['a', 'b', 'c']);
    expect(sent.map((input) => input.ExclusiveStartKey)).toEqual([undefined, { pk: 'P', sk: 'b' }, { pk: 'P', sk: 'b2' }]);
    expect(sent.every((input) => input.TableName === 't' && input.ExpressionAttributeValues?.[':pk'] === 'P')).toBe(true);
  });
});
