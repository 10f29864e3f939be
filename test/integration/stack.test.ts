import { DescribeTableCommand, DynamoDBClient, ListTagsOfResourceCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BILLING_TABLE_KEYS,
  BY_CUSTOMER_INDEX,
  BY_STRIPE_CUSTOMER_INDEX,
  invoiceByCustomerKey,
  invoiceKey,
  subscriptionKey,
  SUBSCRIPTIONS_TABLE_KEYS,
} from '../../src/records/keys.js';
import { loadTemplate, withoutResources, type Template } from '../support/cloudformation.js';
import { startMoto, TEST_CREDENTIALS, TEST_REGION, type Moto } from '../support/moto.js';

/**
 * Creates infrastructure.yaml in moto's CloudFormation and checks what it built. moto implements no
 * AWS::ApiGatewayV2 resources, so those (and what refers to them) are left out here; test/unit/infrastructure.test.ts
 * covers them and what moto's CloudFormation ignores: point-in-time recovery, TTL, the topic policy and tags, the
 * function's architecture and log group, and the alarms and the budget (moto's CloudFormation skips both types), per
 * Monitoring variant.
 */
const TAGS = {
  ClientOrganization: 'Acme Corp',
  BillingProject: 'stripe-billing',
  OrganizationalUnit: 'Platform',
  BillingAllocationID: 'BA-0042',
  Owner: 'platform@acme.test',
  CostCenter: 'CC-7',
  Project: 'aws-stripe-billing',
};
const ARTIFACT = { bucket: 'stripe-billing-artifacts-test', key: 'lambda/billing-handler-abc123.zip' };

let moto: Moto;
let dynamo: DynamoDBClient;
let sns: SNSClient;

beforeAll(async () => {
  moto = await startMoto();
  const clientConfig = { endpoint: moto.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS };
  dynamo = new DynamoDBClient(clientConfig);
  sns = new SNSClient(clientConfig);
  await uploadArtifact();
});

afterAll(async () => {
  dynamo?.destroy();
  sns?.destroy();
  await moto?.stop();
});

describe('infrastructure.yaml in moto CloudFormation', () => {
  const template = loadTemplate('infrastructure.yaml');
  const emulated = withoutResources(template, (_id, resource) => resource.Type.startsWith('AWS::ApiGatewayV2::'));

  it('leaves out only the HTTP API and what refers to it', () => {
    const missing = Object.keys(template.Resources).filter((id) => !(id in emulated.Resources));
    expect(missing.sort()).toEqual(
      [
        'BillingDashboard',
        'RefusedRequestsAlarm',
        'WebhookApi',
        'WebhookApi5xxAlarm',
        'WebhookInvokePermission',
        'WebhookIntegration',
        'WebhookRoute',
        'WebhookStage',
      ].sort(),
    );
  });

  describe('a dev stack', () => {
    let outputs: Record<string, string>;
    beforeAll(async () => {
      outputs = await createStack('stripe-billing-dev', emulated, { Environment: 'dev' });
    });

    it('creates the billing table with the key scheme of src/records/keys.ts, on demand', async () => {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: outputs.BillingTableName }));
      expect(Table?.TableName).toBe('stripe-billing-dev-billing');
      expect(Table?.KeySchema).toEqual([
        { AttributeName: BILLING_TABLE_KEYS.partition, KeyType: 'HASH' },
        { AttributeName: BILLING_TABLE_KEYS.sort, KeyType: 'RANGE' },
      ]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.GlobalSecondaryIndexes).toHaveLength(1);
      const index = Table?.GlobalSecondaryIndexes?.[0];
      expect(index?.IndexName).toBe(BY_CUSTOMER_INDEX.name);
      expect(index?.KeySchema).toEqual([
        { AttributeName: BY_CUSTOMER_INDEX.partition, KeyType: 'HASH' },
        { AttributeName: BY_CUSTOMER_INDEX.sort, KeyType: 'RANGE' },
      ]);
      expect(index?.Projection?.ProjectionType).toBe('ALL');
      expect(Table?.DeletionProtectionEnabled).toBe(false);

      const tags = await dynamo.send(new ListTagsOfResourceCommand({ ResourceArn: Table?.TableArn }));
      expect(Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual(TAGS);
    });

    it('finds an invoice record through the byCustomer index', async () => {
      const item = { ...invoiceKey('in_123'), ...invoiceByCustomerKey('cust-a', '2026-11', 'in_123') };
      await dynamo.send(
        new PutItemCommand({ TableName: outputs.BillingTableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])) }),
      );
      const found = await dynamo.send(
        new QueryCommand({
          TableName: outputs.BillingTableName,
          IndexName: BY_CUSTOMER_INDEX.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': BY_CUSTOMER_INDEX.partition },
          ExpressionAttributeValues: { ':pk': { S: item.gsi1pk } },
        }),
      );
      expect(found.Items?.map((i) => i.pk?.S)).toEqual(['INVOICE#in_123']);
    });

    it('creates the subscriptions table with the key scheme and byStripeCustomer index of src/records/keys.ts, on demand', async () => {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: outputs.SubscriptionsTableName }));
      expect(Table?.TableName).toBe('stripe-billing-dev-subscriptions');
      expect(Table?.KeySchema).toEqual([{ AttributeName: SUBSCRIPTIONS_TABLE_KEYS.partition, KeyType: 'HASH' }]);
      expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(Table?.GlobalSecondaryIndexes).toHaveLength(1);
      const index = Table?.GlobalSecondaryIndexes?.[0];
      expect(index?.IndexName).toBe(BY_STRIPE_CUSTOMER_INDEX.name);
      expect(index?.KeySchema).toEqual([
        { AttributeName: BY_STRIPE_CUSTOMER_INDEX.partition, KeyType: 'HASH' },
        { AttributeName: BY_STRIPE_CUSTOMER_INDEX.sort, KeyType: 'RANGE' },
      ]);
      expect(index?.Projection?.ProjectionType).toBe('ALL');
    });

    it('stores a subscription under its key and finds it through the byStripeCustomer index', async () => {
      const item = { ...subscriptionKey('sub_123'), [BY_STRIPE_CUSTOMER_INDEX.partition]: 'cus_123', status: 'active' };
      await dynamo.send(
        new PutItemCommand({ TableName: outputs.SubscriptionsTableName, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])) }),
      );
      const found = await dynamo.send(
        new QueryCommand({
          TableName: outputs.SubscriptionsTableName,
          IndexName: BY_STRIPE_CUSTOMER_INDEX.name,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': BY_STRIPE_CUSTOMER_INDEX.partition },
          ExpressionAttributeValues: { ':pk': { S: 'cus_123' } },
        }),
      );
      expect(found.Items?.map((i) => i[SUBSCRIPTIONS_TABLE_KEYS.partition]?.S)).toEqual(['sub_123']);
    });

    it('creates the alert topic', async () => {
      expect(outputs.AlertTopicArn).toBe(`arn:aws:sns:${TEST_REGION}:123456789012:stripe-billing-dev-alerts`);
      const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: outputs.AlertTopicArn }));
      expect(Attributes?.DisplayName).toBe('Stripe billing alerts');
    });

    it('configures the webhook function with the runtime, handler, sizing, environment and role', async () => {
      const configuration = await getFunctionConfiguration(outputs.WebhookFunctionName!);
      expect(configuration).toMatchObject({
        FunctionName: 'stripe-billing-dev-billing-handler',
        Runtime: 'nodejs24.x',
        Handler: 'handler.handler',
        MemorySize: 256,
        Timeout: 10,
        Role: outputs.WebhookFunctionRoleArn,
      });
      expect(configuration.Environment?.Variables).toEqual({
        BILLING_TABLE: 'stripe-billing-dev-billing',
        SUBSCRIPTIONS_TABLE: 'stripe-billing-dev-subscriptions',
        SNS_TOPIC_ARN: outputs.AlertTopicArn,
        WEBHOOK_SECRET_PARAMETER: '/stripe/dev/webhook-secret',
        WEBHOOK_METRICS: 'off',
      });
    });

    it('outputs the role ARNs of the webhook function, the cost check and billing, and the dev Stripe parameter names', () => {
      expect(outputs.WebhookFunctionRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/stripe-billing-dev-WebhookFunctionRole-/);
      expect(outputs.CostCheckRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/stripe-billing-dev-CostCheckRole-/);
      expect(outputs.BillingRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/stripe-billing-dev-BillingRole-/);
      expect(outputs.StripeSecretKeyParameterName).toBe('/stripe/dev/secret-key');
      expect(outputs.WebhookSecretParameterName).toBe('/stripe/dev/webhook-secret');
    });

    it('trusts the cost-check role for main only and the billing role for the billing environments only', async () => {
      expect(await gitHubSubjects(outputs.CostCheckRoleArn!)).toEqual(['repo:acme/aws-stripe-billing:ref:refs/heads/main']);
      expect(await gitHubSubjects(outputs.BillingRoleArn!)).toEqual([
        'repo:acme/aws-stripe-billing:environment:billing',
        'repo:acme/aws-stripe-billing:environment:billing-approval',
      ]);
    });

    it('gives the cost-check role no way to read an SSM parameter, and the billing role only the dev secret key', async () => {
      const costCheck = (await rolePolicies(outputs.CostCheckRoleArn!)).join('\n');
      expect(costCheck).toContain('ce:GetCostAndUsage');
      expect(costCheck).not.toContain('ssm:');
      const billing = (await rolePolicies(outputs.BillingRoleArn!)).join('\n');
      expect(billing.replaceAll(' ', '')).toContain(
        '"Action":"ssm:GetParameter","Resource":"arn:aws:ssm:us-east-1:123456789012:parameter/stripe/dev/secret-key"',
      );
    });
  });

  describe('a staging stack with full monitoring', () => {
    let outputs: Record<string, string>;
    beforeAll(async () => {
      outputs = await createStack('stripe-billing-staging', emulated, { Environment: 'staging', Monitoring: 'full' });
    });

    it('turns the embedded metrics on in the webhook function', async () => {
      const configuration = await getFunctionConfiguration(outputs.WebhookFunctionName!);
      expect(configuration.Environment?.Variables?.WEBHOOK_METRICS).toBe('emf');
      expect(configuration.Environment?.Variables?.WEBHOOK_SECRET_PARAMETER).toBe('/stripe/staging/webhook-secret');
    });
  });

  it('creates the bootstrap stack with a deploy role trusted only for the dev environment of the repository', async () => {
    // moto's CloudFormation has no AWS::IAM::OIDCProvider; the unit test covers it and its condition.
    const bootstrap = withoutResources(loadTemplate('scripts/bootstrap.yaml'), (_id, resource) => resource.Type === 'AWS::IAM::OIDCProvider');
    const outputs = await createStack('stripe-billing-bootstrap-dev', bootstrap, {
      Environment: 'dev',
      CreateOidcProvider: 'false',
      GitHubOwnerId: '1001',
      GitHubRepositoryId: '2002',
      ArtifactBucket: undefined,
      ArtifactKey: undefined,
    });
    expect(outputs.ExecutionRoleArn).toMatch(/^arn:aws:iam::123456789012:role\/stripe-billing-bootstrap-dev-CloudFormationExecutionRole-/);
    expect(outputs.PermissionsBoundaryArn).toMatch(/^arn:aws:iam::123456789012:policy\//);
    expect(outputs.ArtifactsBucketName).toMatch(/^stripe-billing-bootstrap-dev-artifactsbucket-/);

    expect(await gitHubSubjects(outputs.DeployRoleArn!)).toEqual([
      'repo:acme/aws-stripe-billing:environment:dev',
      'repo:acme@1001/aws-stripe-billing@2002:environment:dev',
    ]);
  });

  it('turns on deletion protection for the tables of a prod stack', async () => {
    const outputs = await createStack('stripe-billing-prod', emulated, { Environment: 'prod' });
    for (const table of [outputs.BillingTableName, outputs.SubscriptionsTableName]) {
      const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: table }));
      expect(Table?.DeletionProtectionEnabled, table).toBe(true);
    }
  });
});

// ------------------------------------------------------------------ moto calls without an SDK client

/** moto routes a request by the service in the credential scope and does not check the signature. */
function authorization(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20260101/${TEST_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

async function uploadArtifact(): Promise<void> {
  const headers = { authorization: authorization('s3') };
  const emptyZip = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array<number>(18).fill(0)]);
  for (const [path, body] of [
    [`/${ARTIFACT.bucket}`, undefined],
    [`/${ARTIFACT.bucket}/${ARTIFACT.key}`, emptyZip],
  ] as const) {
    const response = await fetch(`${moto.endpoint}${path}`, { method: 'PUT', headers, ...(body ? { body } : {}) });
    expect(response.status, `PUT ${path}`).toBe(200);
  }
}

async function cloudFormation(action: string, parameters: Record<string, string>): Promise<string> {
  const response = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: authorization('cloudformation') },
    body: new URLSearchParams({ Action: action, Version: '2010-05-15', ...parameters }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`CloudFormation ${action} answered ${response.status}: ${text}`);
  return text;
}

/** Creates the stack, waits for CREATE_COMPLETE and returns its outputs. */
async function createStack(stackName: string, template: Template, overrides: Record<string, string | undefined>): Promise<Record<string, string>> {
  const parameters: Record<string, string | undefined> = {
    ArtifactBucket: ARTIFACT.bucket,
    ArtifactKey: ARTIFACT.key,
    GitHubOwner: 'acme',
    GitHubRepository: 'aws-stripe-billing',
    BudgetThreshold: '800',
    ...TAGS,
    ...overrides,
  };
  const request: Record<string, string> = { StackName: stackName, TemplateBody: JSON.stringify(template), 'Capabilities.member.1': 'CAPABILITY_IAM' };
  const given = Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined);
  given.forEach(([key, value], i) => {
    request[`Parameters.member.${i + 1}.ParameterKey`] = key;
    request[`Parameters.member.${i + 1}.ParameterValue`] = value;
  });
  await cloudFormation('CreateStack', request);

  const deadline = Date.now() + 20_000;
  for (;;) {
    const described = await cloudFormation('DescribeStacks', { StackName: stackName });
    const status = /<StackStatus>([^<]+)<\/StackStatus>/.exec(described)?.[1];
    if (status === 'CREATE_COMPLETE') {
      return Object.fromEntries([...described.matchAll(/<OutputKey>([^<]+)<\/OutputKey>\s*<OutputValue>([^<]*)<\/OutputValue>/g)].map((m) => [m[1]!, m[2]!]));
    }
    if (status !== 'CREATE_IN_PROGRESS' || Date.now() > deadline) {
      const events = await cloudFormation('DescribeStackEvents', { StackName: stackName });
      throw new Error(`stack ${stackName} is ${status}: ${[...events.matchAll(/<ResourceStatusReason>([^<]+)</g)].map((m) => m[1]).join('; ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The OIDC subjects a role's trust policy admits, after checking that its only condition besides them is the sts audience. */
async function gitHubSubjects(roleArn: string): Promise<unknown> {
  const trust = await roleTrustPolicy(roleArn);
  expect(trust.Statement).toHaveLength(1);
  const condition = trust.Statement[0]?.Condition as { StringEquals: Record<string, unknown> };
  expect(Object.keys(condition)).toEqual(['StringEquals']);
  const { 'token.actions.githubusercontent.com:aud': audience, 'token.actions.githubusercontent.com:sub': subjects, ...rest } = condition.StringEquals;
  expect(audience).toBe('sts.amazonaws.com');
  expect(rest).toEqual({});
  return subjects;
}

async function roleTrustPolicy(roleArn: string): Promise<{ Statement: Array<{ Condition?: unknown }> }> {
  const response = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: authorization('iam') },
    body: new URLSearchParams({ Action: 'GetRole', Version: '2010-05-08', RoleName: roleArn.split('/').pop()! }),
  });
  const document = /<AssumeRolePolicyDocument>([^<]+)<\/AssumeRolePolicyDocument>/.exec(await response.text())?.[1];
  if (!document) throw new Error(`GetRole ${roleArn} returned no trust policy`);
  return JSON.parse(decodeURIComponent(document.replaceAll('&quot;', '"').replaceAll('&amp;', '&'))) as { Statement: Array<{ Condition?: unknown }> };
}

/** The text of every inline policy of a role, as IAM returns it (moto prints policies created by CloudFormation as Python dicts). */
async function rolePolicies(roleArn: string): Promise<string[]> {
  const roleName = roleArn.split('/').pop()!;
  const iam = (parameters: Record<string, string>) =>
    fetch(`${moto.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: authorization('iam') },
      body: new URLSearchParams({ Version: '2010-05-08', RoleName: roleName, ...parameters }),
    }).then((response) => response.text());
  const names = [...(await iam({ Action: 'ListRolePolicies' })).matchAll(/<member>([^<]+)<\/member>/g)].map((m) => m[1]!);
  expect(names.length).toBeGreaterThan(0);
  const documents: string[] = [];
  for (const name of names) {
    const document = /<PolicyDocument>([^<]+)<\/PolicyDocument>/.exec(await iam({ Action: 'GetRolePolicy', PolicyName: name }))?.[1] ?? '';
    documents.push(decodeURIComponent(document.replaceAll('&quot;', '"').replaceAll('&#x27;', "'").replaceAll('&amp;', '&')).replaceAll("'", '"'));
  }
  return documents;
}

interface FunctionConfiguration {
  FunctionName: string;
  Runtime: string;
  Handler: string;
  MemorySize: number;
  Timeout: number;
  Role: string;
  Environment?: { Variables?: Record<string, string> };
}

async function getFunctionConfiguration(name: string): Promise<FunctionConfiguration> {
  const response = await fetch(`${moto.endpoint}/2015-03-31/functions/${encodeURIComponent(name)}`, { headers: { authorization: authorization('lambda') } });
  expect(response.status, `GetFunction ${name}`).toBe(200);
  return ((await response.json()) as { Configuration: FunctionConfiguration }).Configuration;
}
