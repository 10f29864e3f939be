import { describe, expect, it } from 'vitest';
import { createAwsClients } from '../../src/aws/clients.js';
import { costExplorerAdapter } from '../../src/aws/costExplorer.js';
import { buildCostQueries } from '../../src/costs/query.js';
import { ServiceError } from '../../src/errors.js';
import { startScriptedServer, type ScriptedResponse } from '../support/scriptedServer.js';
import { TEST_CREDENTIALS } from '../support/moto.js';

const query = buildCostQueries({ kind: 'LINKED_ACCOUNT' }, { start: '2026-11-01', endExclusive: '2026-11-15' }, 'UnblendedCost', []).byService;
const emptyPage = { status: 200, body: { ResultsByTime: [], DimensionValueAttributes: [] } };
const noSleep = { sleep: async () => undefined };

async function pageFrom(script: ScriptedResponse[]) {
  const server = await startScriptedServer(script);
  try {
    const { costExplorer } = createAwsClients({ endpoint: server.endpoint, credentials: TEST_CREDENTIALS });
    const result = await costExplorerAdapter(costExplorer, noSleep)
      .getCostAndUsage(query, undefined)
      .catch((error: unknown) => error);
    return { result, requests: server.requests.length };
  } finally {
    await server.close();
  }
}

describe('Cost Explorer failures through the real SDK client', () => {
  it('explains AccessDenied with the permission the OIDC role needs', async () => {
    const { result, requests } = await pageFrom([
      { status: 400, body: { __type: 'AccessDeniedException', Message: 'User is not authorized to perform: ce:GetCostAndUsage' } },
    ]);
    expect(result).toBeInstanceOf(ServiceError);
    expect((result as ServiceError).message).toContain('Cost Explorer refused the request (AccessDeniedException');
    expect((result as ServiceError).hint).toContain('ce:GetCostAndUsage');
    expect(requests).toBe(1);
  });

  it('explains an account where Cost Explorer is not enabled', async () => {
    const { result } = await pageFrom([
      { status: 400, body: { __type: 'DataUnavailableException', Message: 'Data is not available. Please try to adjust the time period.' } },
    ]);
    expect((result as ServiceError).hint).toContain('Enable Cost Explorer');
  });

  it('retries throttling with back-off and succeeds', async () => {
    const throttled = { status: 400, body: { __type: 'LimitExceededException', Message: 'Rate exceeded' } };
    const { result, requests } = await pageFrom([throttled, throttled, emptyPage]);
    expect(result).toEqual({ periods: [], nextPageToken: undefined });
    expect(requests).toBe(3);
  });

  it('gives up after six throttled attempts with a hint', async () => {
    const { result, requests } = await pageFrom([{ status: 400, body: { __type: 'LimitExceededException', Message: 'Rate exceeded' } }]);
    expect((result as ServiceError).message).toBe('Cost Explorer kept throttling after retries (LimitExceededException)');
    expect(requests).toBe(6);
  });

  it('retries a 500 once it recovers', async () => {
    const { result, requests } = await pageFrom([{ status: 500, body: { __type: 'InternalServerError', Message: 'oops' } }, emptyPage]);
    expect(result).toEqual({ periods: [], nextPageToken: undefined });
    expect(requests).toBe(2);
  });
});
