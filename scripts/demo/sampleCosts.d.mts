export interface SampleAccount {
  account: string;
  monthly: number;
}
export interface SampleOptions {
  accounts?: SampleAccount[];
  services?: Array<[string, number]>;
  start: string;
  endExclusive: string;
  metric?: string;
  estimated?: boolean;
  daysPerPage?: number;
  seed?: number;
}
export interface SampleCostPage {
  GroupDefinitions: Array<{ Type: string; Key: string }>;
  ResultsByTime: Array<{
    TimePeriod: { Start: string; End: string };
    Total: Record<string, { Amount: string; Unit: string }>;
    Groups: Array<{ Keys: string[]; Metrics: Record<string, { Amount: string; Unit: string }> }>;
    Estimated: boolean;
  }>;
  DimensionValueAttributes: unknown[];
  NextPageToken?: string;
}
export const SAMPLE_SERVICES: Array<[string, number]>;
export const SAMPLE_ACCOUNTS: SampleAccount[];
export function sampleCostPages(options: SampleOptions): SampleCostPage[];
export function iterateSampleCostPages(options: SampleOptions): Generator<SampleCostPage>;
export interface SampleCostCube {
  start: string;
  endExclusive: string;
  days: string[];
  accounts: string[];
  services: string[];
  estimated: boolean;
  units: Float64Array;
}
export interface CostAndUsageRequest {
  TimePeriod?: { Start?: string | undefined; End?: string | undefined } | undefined;
  Granularity?: string | undefined;
  Metrics?: string[] | undefined;
  GroupBy?: Array<{ Type?: string | undefined; Key?: string | undefined }> | undefined;
  NextPageToken?: string | undefined;
}
export const GROUPS_PER_PAGE: number;
export function sampleCostCube(options: Omit<SampleOptions, 'daysPerPage' | 'metric'>): SampleCostCube;
export function costAndUsagePage(cube: SampleCostCube, request: CostAndUsageRequest, groupsPerPage?: number): SampleCostPage;
export function allCostAndUsagePages(cube: SampleCostCube, request: CostAndUsageRequest, groupsPerPage?: number): SampleCostPage[];
