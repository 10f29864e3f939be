import { GetCostAndUsageCommand } from '@aws-sdk/client-cost-explorer';
import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { costExplorerAdapter, toInput } from '../../src/aws/costExplorer.js';
import { buildCostQueries } from '../../src/costs/query.js';
import { TEST_CREDENTIALS } from '../support/moto.js';
import { startScriptedServer } from '../support/scriptedServer.js';

const window = { start: '2026-11-01', endExclusive: '2026-11-03' };
const queries = buildCostQueries({ kind: 'TAG', key: 'team' }, window, 'UnblendedCost', []);
const totalOnly = buildCostQueries({ kind: 'NONE' }, window, 'UnblendedCost', []).daily;

/** 5,000 groups a day with multi-byte keys: a body of several network chunks, cut inside characters. */
function dailyAnswer() {
  const day = (start: string, estimated: boolean) => ({
    TimePeriod: { Start: start, End: start === '2026-11-01' ? '2026-11-02' : '2026-11-03' },
    Total: {},
    Groups: Array.from({ length: 5000 }, (_, n) => ({
      Keys: [`team$Équipe ${n} 🚀`],
      Metrics: { UnblendedCost: { Amount: `${n}.123456789`, Unit: 'USD' } },
    })),
    Estimated: estimated,
  });
  return { ResultsByTime: [day('2026-11-01', false), day('2026-11-02', true)], DimensionValueAttributes: [], NextPageToken: 'page-2' };
}

async function withServer<T>(body: unknown, use: (client: ReturnType<typeof createAwsClients>['costExplorer']) => Promise<T>): Promise<T> {
  const server = await startScriptedServer([{ status: 200, body }]);
  try {
    return await use(createAwsClients({ endpoint: server.endpoint, credentials: TEST_CREDENTIALS }).costExplorer);
  } finally {
    await server.close();
  }
}

describe('Cost Explorer pages through the real SDK client', () => {
  it('reads every group, key, amount and flag of a large page, multi-byte keys included', async () => {
    const page = await withServer(dailyAnswer(), (client) => costExplorerAdapter(client).getCostAndUsage(queries.daily, 'page-1'));
    expect(page.nextPageToken).toBe('page-2');
    expect(page.periods.map((p) => [p.start, p.estimated, p.groups.length])).toEqual([
      ['2026-11-01', false, 5000],
      ['2026-11-02', true, 5000],
    ]);
    expect(page.periods[1]?.groups[4321]).toEqual({ keys: ['team$Équipe 4321 🚀'], amount: '4321.123456789', unit: 'USD' });
  });

  it("matches the SDK's own decoding of a page, which keeps the body's fields as they are", async () => {
    const answer = dailyAnswer();
    const decodedBySdk = await withServer(answer, (client) => client.send(new GetCostAndUsageCommand(toInput(queries.daily))));
    const { $metadata, ...output } = decodedBySdk;
    expect($metadata.httpStatusCode).toBe(200);
    expect(output).toEqual(answer);
  });

  it('takes the total of an ungrouped query and reads a group without metrics as zero', async () => {
    const answer = {
      ResultsByTime: [
        { TimePeriod: { Start: '2026-11-01', End: '2026-11-02' }, Total: { UnblendedCost: { Amount: '12.5', Unit: 'USD' } }, Groups: [], Estimated: false },
      ],
      DimensionValueAttributes: [],
    };
    const total = await withServer(answer, (client) => costExplorerAdapter(client).getCostAndUsage(totalOnly, undefined));
    expect(total).toEqual({
      nextPageToken: undefined,
      periods: [{ start: '2026-11-01', estimated: false, groups: [{ keys: [], amount: '12.5', unit: 'USD' }] }],
    });
    const grouped = {
      ResultsByTime: [{ TimePeriod: { Start: '2026-11-01', End: '2026-11-03' }, Total: {}, Groups: [{ Keys: ['team$a', 'AWS Lambda'] }], Estimated: true }],
    };
    const page = await withServer(grouped, (client) => costExplorerAdapter(client).getCostAndUsage(queries.byService, undefined));
    expect(page.periods[0]?.groups).toEqual([{ keys: ['team$a', 'AWS Lambda'], amount: '0', unit: '' }]);
  });
});
