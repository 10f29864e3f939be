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

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const region = options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const common = {
    maxAttempts: 5,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
  return {
    // Cost Explorer throttling needs longer back-off than the SDK's; src/aws/costExplorer.ts retries it instead.
    costExplorer: new CostExplorerClient({ ...common, maxAttempts: 1, region: COST_EXPLORER_REGION }),
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ ...common, region }), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    sns: new SNSClient({ ...common, region }),
    ssm: new SSMClient({ ...common, region }),
  };
}
