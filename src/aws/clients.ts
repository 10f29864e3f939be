import { CostExplorerClient } from '@aws-sdk/client-cost-explorer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * The one factory for AWS clients. Credentials, region and endpoint come from the environment as the SDK
 * reads them (AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>], the OIDC-assumed role's variables), so the same code
 * talks to AWS in a workflow and to moto or dynalite in tests.
 */
export interface AwsClients {
  readonly costExplorer: CostExplorerClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sns: SNSClient;
  readonly ssm: SSMClient;
}

export interface AwsClientOptions {
  readonly region?: string;
  /** Overrides every client's endpoint (tests); otherwise the SDK's own resolution applies. */
  readonly endpoint?: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** Cost Explorer has a single endpoint in us-east-1 whatever the region of the rest. */
export const COST_EXPLORER_REGION = 'us-east-1';

/**
 * Clients are built on first use, so a caller pays only for the ones it touches; the webhook Lambda, which never
 * reads Cost Explorer, imports `createDynamoClient` and friends directly and its bundle leaves Cost Explorer out.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  let costExplorer: CostExplorerClient | undefined;
  let dynamo: DynamoDBDocumentClient | undefined;
  let sns: SNSClient | undefined;
  let ssm: SSMClient | undefined;
  return {
    get costExplorer() {
      return (costExplorer ??= createCostExplorerClient(options));
    },
    get dynamo() {
      return (dynamo ??= createDynamoClient(options));
    },
    get sns() {
      return (sns ??= createSnsClient(options));
    },
    get ssm() {
      return (ssm ??= createSsmClient(options));
    },
  };
}

// Cost Explorer throttling needs longer back-off than the SDK's; src/aws/costExplorer.ts retries it instead.
export function createCostExplorerClient(options: AwsClientOptions = {}): CostExplorerClient {
  return new CostExplorerClient({ ...common(options), maxAttempts: 1, region: COST_EXPLORER_REGION });
}

export function createDynamoClient(options: AwsClientOptions = {}): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...common(options), region: region(options) }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

export function createSnsClient(options: AwsClientOptions = {}): SNSClient {
  return new SNSClient({ ...common(options), region: region(options) });
}

export function createSsmClient(options: AwsClientOptions = {}): SSMClient {
  return new SSMClient({ ...common(options), region: region(options) });
}

function region(options: AwsClientOptions): string {
  return options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

function common(options: AwsClientOptions) {
  return {
    maxAttempts: 5,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}
