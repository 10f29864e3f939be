// A realistic, deterministic month of AWS Cost Explorer data (GetCostAndUsage responses, DAILY, grouped by
// LINKED_ACCOUNT and SERVICE) for the demo, the tests and the benchmarks. Same inputs, same numbers.

export const SAMPLE_SERVICES = [
  ['Amazon Elastic Compute Cloud - Compute', 0.31],
  ['Amazon Relational Database Service', 0.16],
  ['Amazon Simple Storage Service', 0.08],
  ['Amazon Elastic Container Service', 0.06],
  ['Amazon CloudFront', 0.05],
  ['Amazon DynamoDB', 0.045],
  ['AWS Lambda', 0.04],
  ['Amazon Virtual Private Cloud', 0.035],
  ['EC2 - Other', 0.03],
  ['Amazon ElastiCache', 0.03],
  ['Amazon OpenSearch Service', 0.025],
  ['Elastic Load Balancing', 0.025],
  ['AmazonCloudWatch', 0.02],
  ['Amazon Simple Queue Service', 0.015],
  ['Amazon Route 53', 0.01],
  ['AWS Key Management Service', 0.008],
  ['Amazon Simple Notification Service', 0.006],
  ['AWS Secrets Manager', 0.005],
  ['Amazon API Gateway', 0.004],
  ['AWS WAF', 0.003],
];

/** The demo's accounts: monthly spend in USD at full-month scale; acme is set to pass its allowance. */
export const SAMPLE_ACCOUNTS = [
  { account: '111111111111', monthly: 1180 },
  { account: '222222222222', monthly: 640 },
  { account: '333333333333', monthly: 310 },
  { account: '444444444444', monthly: 92 },
  { account: '555555555555', monthly: 45 },
  { account: '999999999999', monthly: 18 },
];

/**
 * Pages of GetCostAndUsage responses for [start, endExclusive), `daysPerPage` days per page.
 * @param {{ accounts?: {account: string, monthly: number}[], services?: [string, number][], start: string,
 *   endExclusive: string, metric?: string, estimated?: boolean, daysPerPage?: number, seed?: number }} options
 */
export function sampleCostPages(options) {
  const pages = [];
  for (const page of iterateSampleCostPages(options)) pages.push(page);
  return pages;
}

/** The same pages, produced one at a time (the benchmark streams 600,000 groups without holding them). */
export function* iterateSampleCostPages({
  accounts = SAMPLE_ACCOUNTS,
  services = SAMPLE_SERVICES,
  start,
  endExclusive,
  metric = 'UnblendedCost',
  estimated = true,
  daysPerPage = 7,
  seed = 20261101,
}) {
  const random = mulberry32(seed);
  const dayMs = 86_400_000;
  const first = Date.parse(start);
  const days = Math.round((Date.parse(endExclusive) - first) / dayMs);
  const pageCount = Math.max(1, Math.ceil(days / daysPerPage));
  for (let page = 0; page < pageCount; page++) {
    const resultsByTime = [];
    for (let day = page * daysPerPage; day < Math.min(days, (page + 1) * daysPerPage); day++) {
      const date = new Date(first + day * dayMs);
      const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
      const groups = [];
      for (const { account, monthly } of accounts) {
        const growth = 1 + day * 0.006;
        for (const [service, share] of services) {
          const amount = (monthly / 30) * share * growth * (weekend ? 0.82 : 1) * (0.85 + random() * 0.3);
          groups.push({ Keys: [account, service], Metrics: { [metric]: { Amount: amount.toFixed(10), Unit: 'USD' } } });
        }
      }
      resultsByTime.push({
        TimePeriod: { Start: iso(date), End: iso(new Date(date.getTime() + dayMs)) },
        Total: {},
        Groups: groups,
        Estimated: estimated,
      });
    }
    yield {
      GroupDefinitions: [
        { Type: 'DIMENSION', Key: 'LINKED_ACCOUNT' },
        { Type: 'DIMENSION', Key: 'SERVICE' },
      ],
      ResultsByTime: resultsByTime,
      DimensionValueAttributes: [],
      ...(page < pageCount - 1 ? { NextPageToken: `page-${page + 1}` } : {}),
    };
  }
}

function iso(date) {
  return date.toISOString().slice(0, 10);
}

function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
