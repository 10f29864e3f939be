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
    Total: Record<string, never>;
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
