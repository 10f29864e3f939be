import type { CostExplorerPort, CostPage, CostQuery } from '../../src/costs/query.js';
import type { SampleCostPage } from '../../scripts/demo/sampleCosts.mjs';

/** Maps a Cost Explorer wire response to the port's page: what the real adapter does after the SDK. */
export function toCostPage(page: SampleCostPage): CostPage {
  return {
    nextPageToken: page.NextPageToken,
    days: page.ResultsByTime.map((day) => ({
      start: day.TimePeriod.Start,
      estimated: day.Estimated,
      groups: day.Groups.map((g) => {
        const metric = Object.values(g.Metrics)[0];
        return { keys: g.Keys, amount: metric?.Amount ?? '0', unit: metric?.Unit ?? '' };
      }),
    })),
  };
}

/** A Cost Explorer response with one group on 1 November 2026, in USD and Estimated (the month is running). */
export function oneDayPage(keys: string[], amount: string): SampleCostPage {
  return {
    GroupDefinitions: [],
    DimensionValueAttributes: [],
    ResultsByTime: [
      {
        TimePeriod: { Start: '2026-11-01', End: '2026-11-02' },
        Total: {},
        Estimated: true,
        Groups: [{ Keys: keys, Metrics: { UnblendedCost: { Amount: amount, Unit: 'USD' } } }],
      },
    ],
  };
}

/** An in-memory Cost Explorer for unit tests: serves the given pages by token and records each query. */
export function pagedCostExplorer(pages: readonly SampleCostPage[], forecast?: string) {
  const queries: Array<{ query: CostQuery; token: string | undefined }> = [];
  const port: CostExplorerPort = {
    async getCostAndUsage(query, token) {
      queries.push({ query, token });
      const index = token ? Number(token.replace('page-', '')) : 0;
      const page = pages[index];
      if (!page) throw new Error(`no page ${index}`);
      return toCostPage(page);
    },
    ...(forecast === undefined ? {} : { getCostForecast: async () => forecast }),
  };
  return { port, queries };
}
