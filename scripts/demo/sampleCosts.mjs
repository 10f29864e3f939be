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

/**
 * The same month as a cube of amounts in 1e-10 USD (integers, so any sum of them is exact), day-major:
 * units[(day * accounts + account) * services + service]. Cost Explorer's answer to any query shape is a sum over it.
 * @param {{ accounts?: {account: string, monthly: number}[], services?: [string, number][], start: string,
 *   endExclusive: string, estimated?: boolean, seed?: number }} options
 */
export function sampleCostCube({ accounts = SAMPLE_ACCOUNTS, services = SAMPLE_SERVICES, start, endExclusive, estimated = true, seed = 20261101 }) {
  const random = mulberry32(seed);
  const dayMs = 86_400_000;
  const first = Date.parse(start);
  const dayCount = Math.round((Date.parse(endExclusive) - first) / dayMs);
  const units = new Float64Array(dayCount * accounts.length * services.length);
  const days = [];
  let index = 0;
  for (let day = 0; day < dayCount; day++) {
    const date = new Date(first + day * dayMs);
    days.push(iso(date));
    const weekend = date.getUTCDay() === 0 || date.getUTCDay() === 6;
    for (const { monthly } of accounts) {
      const growth = 1 + day * 0.006;
      for (const [, share] of services) {
        units[index++] = Math.round((monthly / 30) * share * growth * (weekend ? 0.82 : 1) * (0.85 + random() * 0.3) * UNITS_PER_USD);
      }
    }
  }
  return { start, endExclusive, days, accounts: accounts.map((a) => a.account), services: services.map(([name]) => name), estimated, units };
}

const UNITS_PER_USD = 1e10;

/** Groups per page, as Cost Explorer pages large GetCostAndUsage answers. */
export const GROUPS_PER_PAGE = 5_000;

/**
 * One page of Cost Explorer's GetCostAndUsage answer computed from a cube, for the request as the SDK sends it
 * (Granularity DAILY or MONTHLY, GroupBy LINKED_ACCOUNT and/or SERVICE or none, NextPageToken).
 */
export function costAndUsagePage(cube, request, groupsPerPage = GROUPS_PER_PAGE) {
  const metric = request.Metrics?.[0] ?? 'UnblendedCost';
  const groupBy = (request.GroupBy ?? []).map((g) => g.Key);
  const byAccount = groupBy.includes('LINKED_ACCOUNT');
  const byService = groupBy.includes('SERVICE');
  const monthly = request.Granularity === 'MONTHLY';
  // Only the days of the requested period (the cube may hold more).
  const start = request.TimePeriod?.Start ?? cube.start;
  const end = request.TimePeriod?.End ?? cube.endExclusive;
  const first = cube.days.findIndex((day) => day >= start);
  const last = first === -1 ? -1 : cube.days.findLastIndex((day) => day < end) + 1;
  const daily = first === -1 ? [] : cube.days.slice(first, last).map((day, i) => ({ first: first + i, last: first + i + 1, start: day, end: isoAfter(day) }));
  const buckets = monthly ? (daily.length > 0 ? [{ first, last, start, end }] : []) : daily;
  const accountCount = cube.accounts.length;
  const serviceCount = cube.services.length;
  const groupsPerBucket = groupBy.length === 0 ? 1 : (byAccount ? accountCount : 1) * (byService ? serviceCount : 1);
  const total = buckets.length * groupsPerBucket;
  const from = request.NextPageToken ? Number(request.NextPageToken.replace('page-', '')) * groupsPerPage : 0;
  const to = Math.min(total, from + groupsPerPage);
  const amount = (bucket, account, service) => {
    let sum = 0;
    for (let d = bucket.first; d < bucket.last; d++) {
      for (let a = account ?? 0; a < (account === undefined ? accountCount : account + 1); a++) {
        const row = (d * accountCount + a) * serviceCount;
        for (let s = service ?? 0; s < (service === undefined ? serviceCount : service + 1); s++) sum += cube.units[row + s];
      }
    }
    return { Amount: formatUnits(sum), Unit: 'USD' };
  };
  const resultsByTime = [];
  for (let i = from; i < to;) {
    const b = Math.floor(i / groupsPerBucket);
    const bucket = buckets[b];
    const groups = [];
    const result = { TimePeriod: { Start: bucket.start, End: bucket.end }, Total: {}, Groups: groups, Estimated: cube.estimated };
    if (groupBy.length === 0) {
      result.Total = { [metric]: amount(bucket, undefined, undefined) };
      i++;
    }
    for (; groupBy.length > 0 && i < to && Math.floor(i / groupsPerBucket) === b; i++) {
      const g = i % groupsPerBucket;
      const account = byAccount ? (byService ? Math.floor(g / serviceCount) : g) : undefined;
      const service = byService ? (byAccount ? g % serviceCount : g) : undefined;
      const keys = [...(byAccount ? [cube.accounts[account]] : []), ...(byService ? [cube.services[service]] : [])];
      groups.push({ Keys: keys, Metrics: { [metric]: amount(bucket, account, service) } });
    }
    resultsByTime.push(result);
  }
  const pageIndex = Math.floor(from / groupsPerPage);
  return {
    GroupDefinitions: (request.GroupBy ?? []).map((g) => ({ Type: g.Type, Key: g.Key })),
    ResultsByTime: resultsByTime,
    DimensionValueAttributes: [],
    ...(to < total ? { NextPageToken: `page-${pageIndex + 1}` } : {}),
  };
}

/** Every page of one request shape, in the order a client following NextPageToken asks for them. */
export function allCostAndUsagePages(cube, request, groupsPerPage = GROUPS_PER_PAGE) {
  const pages = [costAndUsagePage(cube, request, groupsPerPage)];
  while (pages.at(-1).NextPageToken) pages.push(costAndUsagePage(cube, { ...request, NextPageToken: pages.at(-1).NextPageToken }, groupsPerPage));
  return pages;
}

function isoAfter(day) {
  return iso(new Date(Date.parse(day) + 86_400_000));
}

function formatUnits(units) {
  const sign = units < 0 ? '-' : '';
  const abs = Math.abs(units);
  return `${sign}${Math.floor(abs / UNITS_PER_USD)}.${String(abs % UNITS_PER_USD).padStart(10, '0')}`;
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
