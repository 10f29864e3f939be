import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BudgetAlert } from '../../src/alerts/evaluate.js';
import { dynamoAlertMarkers } from '../../src/store/alertMarkers.js';
import {
  alertKey,
  BILLING_TABLE_KEYS,
  BY_CUSTOMER_INDEX,
  BY_STRIPE_CUSTOMER_INDEX,
  invoiceKey,
  SUBSCRIPTIONS_TABLE_KEYS,
  webhookEventKey,
} from '../../src/records/keys.js';
import { CLAIM_LEASE_MS, dynamoEventLedger } from '../../src/store/webhookStore.js';
import { METRICS_NAMESPACE, metricsLine, SERVICE_NAME } from '../../src/webhooks/telemetry.js';
import {
  flattenValues,
  loadTemplate,
  policyStatements,
  referencedIds,
  resolveVariant,
  type Json,
  type Resource,
  type Template,
} from '../support/cloudformation.js';

/**
 * Static checks of the two CloudFormation templates: what moto cannot create (HTTP API, PITR, TTL, policies) and
 * the rules of the house for every resource (tags, retention of data, least privilege, OIDC trust).
 */
const infrastructure = loadTemplate('infrastructure.yaml');
const bootstrap = loadTemplate('scripts/bootstrap.yaml');
const VARIANT_PARAMETERS = { Environment: 'prod', BudgetThreshold: '800', ArtifactBucket: 'b', ArtifactKey: 'k.zip', GitHubOwner: 'o', GitHubRepository: 'r' };
/** The stack each Monitoring variant deploys (a prod stack, so the account budget is in it). */
const VARIANTS = {
  basic: resolveVariant(infrastructure, { ...VARIANT_PARAMETERS, Monitoring: 'basic' }),
  full: resolveVariant(infrastructure, { ...VARIANT_PARAMETERS, Monitoring: 'full' }),
};
const TEMPLATES: Array<[string, Template]> = [
  ['infrastructure.yaml', infrastructure],
  ['scripts/bootstrap.yaml', bootstrap],
];

const TAG_KEYS = ['ClientOrganization', 'BillingProject', 'OrganizationalUnit', 'BillingAllocationID', 'Owner', 'CostCenter', 'Project'];

/** Where each taggable resource type keeps its tags: a Key/Value list or a map. */
const TAGGABLE: Record<string, { property: string; shape: 'list' | 'map' }> = {
  'AWS::DynamoDB::Table': { property: 'Tags', shape: 'list' },
  'AWS::SNS::Topic': { property: 'Tags', shape: 'list' },
  'AWS::Budgets::Budget': { property: 'ResourceTags', shape: 'list' },
  'AWS::Logs::LogGroup': { property: 'Tags', shape: 'list' },
  'AWS::IAM::Role': { property: 'Tags', shape: 'list' },
  'AWS::IAM::OIDCProvider': { property: 'Tags', shape: 'list' },
  'AWS::Lambda::Function': { property: 'Tags', shape: 'list' },
  'AWS::ApiGatewayV2::Api': { property: 'Tags', shape: 'map' },
  'AWS::ApiGatewayV2::Stage': { property: 'Tags', shape: 'map' },
  'AWS::CloudWatch::Alarm': { property: 'Tags', shape: 'list' },
  'AWS::S3::Bucket': { property: 'Tags', shape: 'list' },
};
/** Types CloudFormation cannot tag (no Tags property); a new type must be added to one of the two lists. */
const UNTAGGABLE = new Set([
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Route',
  'AWS::Lambda::Permission',
  'AWS::CloudWatch::Dashboard',
  'AWS::S3::BucketPolicy',
  'AWS::IAM::ManagedPolicy',
]);
/** Actions without resource-level permissions: the only ones that may be allowed on Resource '*'. */
const NO_RESOURCE_LEVEL_PERMISSIONS = new Set(['ce:GetCostAndUsage', 'ce:GetCostForecast', 'cloudformation:ValidateTemplate', 'ssm:DescribeParameters']);

const OIDC_PROVIDER = 'oidc-provider/token.actions.githubusercontent.com';
const REPOSITORY_SUBJECT = /^repo:\$\{GitHubOwner\}\/\$\{GitHubRepository\}:/;
const IMMUTABLE_SUBJECT = /^repo:\$\{GitHubOwner\}@\$\{GitHubOwnerId\}\/\$\{GitHubRepository\}@\$\{GitHubRepositoryId\}:/;

function resourcesOfType(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

function props(resource: Resource | undefined): Record<string, Json> {
  if (!resource?.Properties) throw new Error('resource has no Properties');
  return resource.Properties;
}

function list(value: Json | undefined): Json[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** The text of an Fn::Sub (short or long form), for assertions on ARNs and subjects. */
function subText(value: Json | undefined): string {
  const sub = (value as { 'Fn::Sub'?: Json } | undefined)?.['Fn::Sub'];
  if (typeof sub === 'string') return sub;
  if (Array.isArray(sub) && typeof sub[0] === 'string') return sub[0];
  throw new Error(`not an Fn::Sub: ${JSON.stringify(value)}`);
}

describe.each(TEMPLATES)('%s', (_name, template) => {
  it('uses only resource types whose tagging has been decided', () => {
    const undecided = Object.values(template.Resources)
      .map((r) => r.Type)
      .filter((type) => !(type in TAGGABLE) && !UNTAGGABLE.has(type));
    expect(undecided).toEqual([]);
  });

  it('puts the seven cost-allocation tags, from the parameters of the same names, on every taggable resource', () => {
    for (const parameter of TAG_KEYS) expect(template.Parameters?.[parameter], parameter).toBeDefined();
    const taggable = Object.entries(template.Resources).filter(([, r]) => r.Type in TAGGABLE);
    expect(taggable.length).toBeGreaterThan(0);
    for (const [id, resource] of taggable) {
      const { property, shape } = TAGGABLE[resource.Type]!;
      const tags = props(resource)[property];
      const asMap =
        shape === 'map' ? (tags as Record<string, Json>) : Object.fromEntries((tags as Array<{ Key: string; Value: Json }>).map((t) => [t.Key, t.Value]));
      expect(asMap, id).toEqual(Object.fromEntries(TAG_KEYS.map((key) => [key, { Ref: key }])));
    }
  });

  it('never allows every action, nor any resource except for actions without resource-level permissions', () => {
    const allows = policyStatements(template).filter((s) => s.kind === 'permissions' && s.statement.Effect === 'Allow');
    expect(allows.length).toBeGreaterThan(0);
    for (const { resource, statement } of allows) {
      const where = `${resource} ${String(statement.Sid ?? '')}`;
      expect(statement.NotAction, where).toBeUndefined();
      expect(statement.NotResource, where).toBeUndefined();
      const actions = list(statement.Action).map(String);
      for (const action of actions) expect(action, where).not.toMatch(/^\*$|:\*$/);
      if (list(statement.Resource).includes('*')) {
        expect(
          actions.filter((action) => !NO_RESOURCE_LEVEL_PERMISSIONS.has(action)),
          where,
        ).toEqual([]);
      }
    }
  });

  it('trusts GitHub OIDC only with the sts audience and exact subjects of this repository', () => {
    const trusts = policyStatements(template).filter(
      (s) => s.kind === 'trust' && JSON.stringify((s.statement.Principal as { Federated?: Json } | undefined)?.Federated ?? '').includes(OIDC_PROVIDER),
    );
    expect(trusts.length).toBeGreaterThan(0);
    for (const { resource, statement } of trusts) {
      expect(statement.Action, resource).toBe('sts:AssumeRoleWithWebIdentity');
      const condition = statement.Condition as Record<string, Record<string, Json>>;
      expect(Object.keys(condition), resource).toEqual(['StringEquals']);
      expect(condition.StringEquals!['token.actions.githubusercontent.com:aud'], resource).toBe('sts.amazonaws.com');
      const subjects = flattenValues(condition.StringEquals!['token.actions.githubusercontent.com:sub']).map(subText);
      expect(subjects.length, resource).toBeGreaterThan(0);
      for (const subject of subjects) {
        expect(REPOSITORY_SUBJECT.test(subject) || IMMUTABLE_SUBJECT.test(subject), `${resource}: ${subject}`).toBe(true);
        expect(subject, resource).not.toMatch(/[*?]/);
      }
    }
  });

  it('retains what holds data or is shared when the stack is deleted or the resource replaced', () => {
    const stateful = Object.entries(template.Resources).filter(([, r]) =>
      ['AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::IAM::OIDCProvider'].includes(r.Type),
    );
    expect(stateful.length).toBeGreaterThan(0);
    for (const [id, resource] of stateful) {
      expect(resource.DeletionPolicy, id).toBe('Retain');
      expect(resource.UpdateReplacePolicy, id).toBe('Retain');
    }
  });
});

describe('infrastructure.yaml', () => {
  const resources = infrastructure.Resources;

  it('takes the environment, tag values, budget threshold, alert email, GitHub repository, artifact and parameter names', () => {
    const parameters = infrastructure.Parameters ?? {};
    expect(parameters.Environment?.AllowedValues).toEqual(['dev', 'staging', 'prod']);
    // No default: the one threshold comes from scripts/account-budget.env through deploy.sh.
    expect(parameters.BudgetThreshold).toMatchObject({ Type: 'Number' });
    expect(parameters.BudgetThreshold).not.toHaveProperty('Default');
    expect(parameters.AlertEmail?.Default).toBe('');
    expect(parameters.Monitoring).toMatchObject({ AllowedValues: ['basic', 'full'], Default: 'basic' });
    // Empty means the environment's own name, /stripe/<Environment>/...; any other name must stay there too.
    for (const name of ['WebhookSecretParameter', 'StripeSecretKeyParameter']) {
      expect(parameters[name]?.Default, name).toBe('');
      const pattern = new RegExp(String(parameters[name]?.AllowedPattern));
      expect(pattern.test('/stripe/prod/secret-key'), name).toBe(true);
      expect(pattern.test('/stripe/secret-key'), name).toBe(false);
      expect(pattern.test('/other/prod/secret-key'), name).toBe(false);
    }
    for (const name of ['GitHubOwner', 'GitHubRepository', 'GitHubOwnerId', 'GitHubRepositoryId', 'ArtifactBucket', 'ArtifactKey', 'LogRetentionDays']) {
      expect(parameters[name], name).toBeDefined();
    }
  });

  describe('tables', () => {
    const tables = resourcesOfType(infrastructure, 'AWS::DynamoDB::Table');

    it('are the billing and subscriptions tables, on demand, with PITR, encryption and deletion protection in prod', () => {
      expect(tables.map(([id]) => id).sort()).toEqual(['BillingTable', 'SubscriptionsTable']);
      for (const [id, table] of tables) {
        const p = props(table);
        expect(p.BillingMode, id).toBe('PAY_PER_REQUEST');
        expect(p.PointInTimeRecoverySpecification, id).toMatchObject({ PointInTimeRecoveryEnabled: true });
        expect(p.SSESpecification, id).toMatchObject({ SSEEnabled: true });
        expect(p.DeletionProtectionEnabled, id).toEqual({ 'Fn::If': ['ProtectTables', true, false] });
      }
      expect(infrastructure.Conditions?.IsProd).toEqual({ 'Fn::Equals': [{ Ref: 'Environment' }, 'prod'] });
      expect(JSON.stringify(infrastructure.Conditions?.ProtectTables)).toContain('{"Condition":"IsProd"}');
    });

    it('gives the billing table the key scheme, index and TTL attribute of src/records/keys.ts', () => {
      const p = props(resources.BillingTable);
      expect(p.KeySchema).toEqual([
        { AttributeName: BILLING_TABLE_KEYS.partition, KeyType: 'HASH' },
        { AttributeName: BILLING_TABLE_KEYS.sort, KeyType: 'RANGE' },
      ]);
      expect(p.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: BY_CUSTOMER_INDEX.name,
          KeySchema: [
            { AttributeName: BY_CUSTOMER_INDEX.partition, KeyType: 'HASH' },
            { AttributeName: BY_CUSTOMER_INDEX.sort, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]);
      expect(p.TimeToLiveSpecification).toEqual({ AttributeName: BILLING_TABLE_KEYS.ttl, Enabled: true });
      const attributes = (p.AttributeDefinitions as Array<{ AttributeName: string; AttributeType: string }>).map(
        (a) => `${a.AttributeName}:${a.AttributeType}`,
      );
      expect(attributes.sort()).toEqual(
        [BILLING_TABLE_KEYS.partition, BILLING_TABLE_KEYS.sort, BY_CUSTOMER_INDEX.partition, BY_CUSTOMER_INDEX.sort].map((name) => `${name}:S`).sort(),
      );
    });

    it('gives the subscriptions table the key and byStripeCustomer index of src/records/keys.ts, and no TTL', () => {
      const p = props(resources.SubscriptionsTable);
      expect(p.KeySchema).toEqual([{ AttributeName: SUBSCRIPTIONS_TABLE_KEYS.partition, KeyType: 'HASH' }]);
      expect(p.GlobalSecondaryIndexes).toEqual([
        {
          IndexName: BY_STRIPE_CUSTOMER_INDEX.name,
          KeySchema: [
            { AttributeName: BY_STRIPE_CUSTOMER_INDEX.partition, KeyType: 'HASH' },
            { AttributeName: BY_STRIPE_CUSTOMER_INDEX.sort, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ]);
      const attributes = (p.AttributeDefinitions as Array<{ AttributeName: string; AttributeType: string }>).map(
        (a) => `${a.AttributeName}:${a.AttributeType}`,
      );
      expect(attributes.sort()).toEqual(
        [...new Set([SUBSCRIPTIONS_TABLE_KEYS.partition, BY_STRIPE_CUSTOMER_INDEX.partition, BY_STRIPE_CUSTOMER_INDEX.sort])].map((name) => `${name}:S`).sort(),
      );
      expect(p.TimeToLiveSpecification).toBeUndefined();
    });

    it('expires webhook event markers and alert markers through the TTL attribute of the billing table', async () => {
      const sent: Array<Record<string, unknown>> = [];
      const dynamo = {
        send: (command: { input: Record<string, unknown> }) => (sent.push(command.input), Promise.resolve({})),
      } as unknown as DynamoDBDocumentClient;
      const nowMs = Date.UTC(2026, 10, 1);

      await dynamoEventLedger(dynamo, 'billing').settle({ eventId: 'evt_1', eventType: 'invoice.paid', eventCreated: 1 }, { effectApplied: true }, nowMs);
      const claim = sent.pop()!;
      const ttlValue = /(?:^|[ ,])([A-Za-z0-9_]+) = (:[A-Za-z0-9_]+)/g;
      const sets = Object.fromEntries([...String(claim.UpdateExpression).matchAll(ttlValue)].map((m) => [m[1], m[2]]));
      const markerExpiry = (claim.ExpressionAttributeValues as Record<string, unknown>)[sets[BILLING_TABLE_KEYS.ttl] ?? ''];
      expect(markerExpiry, `event marker sets ${BILLING_TABLE_KEYS.ttl}`).toBeTypeOf('number');
      expect(markerExpiry as number).toBeGreaterThan(nowMs / 1000);

      const alert = { period: '2026-11', scope: 'TOTAL', kind: 'actual', level: 80 } as BudgetAlert;
      await dynamoAlertMarkers(dynamo, 'billing').claim(alert, new Date(nowMs));
      const item = sent.pop()!.Item as Record<string, unknown>;
      expect(item[BILLING_TABLE_KEYS.ttl], `alert marker sets ${BILLING_TABLE_KEYS.ttl}`).toBeTypeOf('number');
    });
  });

  describe('webhook Lambda', () => {
    it('is the only function: nodejs24.x on arm64, handler.handler from the artifact, sized and logged', () => {
      const functions = resourcesOfType(infrastructure, 'AWS::Lambda::Function');
      expect(functions.map(([id]) => id)).toEqual(['WebhookFunction']);
      const p = props(resources.WebhookFunction);
      expect(p).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'handler.handler',
        MemorySize: 256,
        Code: { S3Bucket: { Ref: 'ArtifactBucket' }, S3Key: { Ref: 'ArtifactKey' } },
        Role: { 'Fn::GetAtt': ['WebhookFunctionRole', 'Arn'] },
        LoggingConfig: { LogGroup: { Ref: 'WebhookLogGroup' } },
      });
      expect(props(resources.WebhookLogGroup).RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
    });

    it('times out within 30 s, well inside the event claim lease, and before the API integration gives up', () => {
      const timeout = props(resources.WebhookFunction).Timeout as number;
      expect(timeout).toBe(10);
      expect(timeout).toBeLessThanOrEqual(30);
      expect(timeout * 1000).toBeLessThan(CLAIM_LEASE_MS);
      expect(props(resources.WebhookIntegration).TimeoutInMillis as number).toBeGreaterThan(timeout * 1000);
    });

    it('passes the table names, topic ARN, webhook secret parameter name and metrics switch in the environment', () => {
      for (const [monitoring, metrics] of [
        ['basic', 'off'],
        ['full', 'emf'],
      ] as const) {
        const variables = (props(VARIANTS[monitoring].Resources.WebhookFunction).Environment as { Variables: Json }).Variables;
        expect(variables, monitoring).toEqual({
          BILLING_TABLE: { Ref: 'BillingTable' },
          SUBSCRIPTIONS_TABLE: { Ref: 'SubscriptionsTable' },
          SNS_TOPIC_ARN: { Ref: 'AlertTopic' },
          WEBHOOK_SECRET_PARAMETER: { 'Fn::Sub': '/stripe/${Environment}/webhook-secret' },
          WEBHOOK_METRICS: metrics,
        });
      }
      const named = resolveVariant(infrastructure, { ...VARIANT_PARAMETERS, WebhookSecretParameter: '/stripe/prod/whsec-live' });
      expect((props(named.Resources.WebhookFunction).Environment as { Variables: Record<string, Json> }).Variables.WEBHOOK_SECRET_PARAMETER).toEqual({
        Ref: 'WebhookSecretParameter',
      });
    });

    it('deploys the code object by its S3 version id when one is given', () => {
      const pinned = resolveVariant(infrastructure, { ...VARIANT_PARAMETERS, ArtifactObjectVersion: 'v3.HL4kq+tJl' });
      expect(props(pinned.Resources.WebhookFunction).Code).toEqual({
        S3Bucket: { Ref: 'ArtifactBucket' },
        S3Key: { Ref: 'ArtifactKey' },
        S3ObjectVersion: { Ref: 'ArtifactObjectVersion' },
      });
      expect(new RegExp(String(infrastructure.Parameters?.ArtifactObjectVersion?.AllowedPattern)).test('3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY')).toBe(true);
    });

    it('sets only environment variables that src/webhooks/config.ts reads', async () => {
      const source = await readFile('src/webhooks/config.ts', 'utf8');
      const read = new Set([...source.matchAll(/(?:read|positive)\(\s*'([A-Z_]+)'/g)].map((m) => m[1]));
      expect(read.size).toBeGreaterThan(0);
      const variables = Object.keys((props(resources.WebhookFunction).Environment as { Variables: Record<string, Json> }).Variables);
      for (const variable of variables) expect(read, variable).toContain(variable);
    });

    it('has a role with exactly the calls of the handler: its log group, event markers, invoices, subscriptions, topic, secret', () => {
      const statements = policyStatements(infrastructure).filter((s) => s.resource === 'WebhookFunctionRole' && s.kind === 'permissions');
      const grants = statements.map((s) => ({ actions: list(s.statement.Action).map(String).sort(), resources: list(s.statement.Resource) }));
      expect(grants).toEqual([
        { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [{ 'Fn::GetAtt': ['WebhookLogGroup', 'Arn'] }] },
        // src/store/webhookStore.ts: UpdateCommand and GetCommand on the billing table, by primary key only.
        { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [{ 'Fn::GetAtt': ['BillingTable', 'Arn'] }] },
        // src/store/webhookStore.ts: PutCommand on the subscriptions table.
        { actions: ['dynamodb:PutItem'], resources: [{ 'Fn::GetAtt': ['SubscriptionsTable', 'Arn'] }] },
        { actions: ['sns:Publish'], resources: [{ Ref: 'AlertTopic' }] },
        { actions: ['ssm:GetParameter'], resources: [expect.anything()] },
      ]);
      expect(statements.flatMap((s) => list(s.statement.Action)).filter((a) => String(a).startsWith('kms:'))).toEqual([]);
      const secret = statements.find((s) => s.statement.Sid === 'ReadWebhookSecret')!.statement;
      expect(secret.Action).toBe('ssm:GetParameter');
      expect(secret.Resource).toEqual({
        'Fn::Sub': [
          'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}',
          { Name: { 'Fn::If': ['HasWebhookSecretName', { Ref: 'WebhookSecretParameter' }, { 'Fn::Sub': '/stripe/${Environment}/webhook-secret' }] } },
        ],
      });
    });

    it('may read and update only event markers and invoice records of the billing table (src/records/keys.ts prefixes)', () => {
      const table = policyStatements(infrastructure).find((s) => s.resource === 'WebhookFunctionRole' && s.statement.Sid === 'EventMarkersAndInvoiceRecords')!;
      expect(table.statement.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['EVENT#*', 'INVOICE#*'] } });
      expect(webhookEventKey('evt_1').pk).toMatch(/^EVENT#/);
      expect(invoiceKey('in_1').pk).toMatch(/^INVOICE#/);
    });
  });

  describe('HTTP API', () => {
    it('routes POST /webhook to the function with payload format 2.0', () => {
      expect(props(resources.WebhookApi).ProtocolType).toBe('HTTP');
      expect(props(resources.WebhookRoute)).toMatchObject({ RouteKey: 'POST /webhook', ApiId: { Ref: 'WebhookApi' } });
      expect(subText(props(resources.WebhookRoute).Target)).toBe('integrations/${WebhookIntegration}');
      expect(props(resources.WebhookIntegration)).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        IntegrationUri: { 'Fn::GetAtt': ['WebhookFunction', 'Arn'] },
        PayloadFormatVersion: '2.0',
      });
    });

    it('throttles the stage', () => {
      expect(props(resources.WebhookStage)).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: { Ref: 'WebhookRateLimit' }, ThrottlingBurstLimit: { Ref: 'WebhookBurstLimit' } },
      });
    });

    it('lets only this API route invoke the function', () => {
      const permission = props(resources.WebhookInvokePermission);
      expect(permission).toMatchObject({ Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com', FunctionName: { Ref: 'WebhookFunction' } });
      expect(subText(permission.SourceArn)).toBe('arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebhookApi}/*/POST/webhook');
    });

    it('outputs the webhook URL', () => {
      expect(subText(infrastructure.Outputs?.WebhookUrl?.Value)).toBe('${WebhookApi.ApiEndpoint}/webhook');
    });
  });

  describe('alerts', () => {
    it('lets AWS Budgets and CloudWatch publish to the topic only for this account, budget and stack alarms', () => {
      const statements = (props(resources.AlertTopicPolicy).PolicyDocument as { Statement: Array<Record<string, Json>> }).Statement.filter(
        (s) => s.Effect === 'Allow',
      );
      const byService = Object.fromEntries(statements.map((s) => [(s.Principal as { Service: string }).Service, s]));
      expect(Object.keys(byService).sort()).toEqual(['budgets.amazonaws.com', 'cloudwatch.amazonaws.com']);
      for (const statement of statements) {
        expect(statement.Action).toBe('sns:Publish');
        expect(statement.Resource).toEqual({ Ref: 'AlertTopic' });
        const condition = statement.Condition as Record<string, Record<string, Json>>;
        expect(condition.StringEquals?.['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
        expect(condition.ArnLike?.['aws:SourceArn']).toBeDefined();
      }
      const budgetName = subText((props(resources.MonthlyBudget).Budget as Record<string, Json>).BudgetName);
      expect(subText((byService['budgets.amazonaws.com']!.Condition as Record<string, Record<string, Json>>).ArnLike!['aws:SourceArn'])).toBe(
        `arn:\${AWS::Partition}:budgets::\${AWS::AccountId}:budget/${budgetName}`,
      );
    });

    it('subscribes the alert email only when one is given', () => {
      expect(resources.AlertEmailSubscription).toMatchObject({
        Condition: 'HasAlertEmail',
        Properties: { Protocol: 'email', TopicArn: { Ref: 'AlertTopic' } },
      });
      expect(infrastructure.Conditions?.HasAlertEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertEmail' }, ''] }] });
    });

    it('budgets the monthly cost at the threshold with notifications to the topic, once per account', () => {
      const p = props(resources.MonthlyBudget);
      expect(p.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: { Ref: 'BudgetThreshold' }, Unit: 'USD' } });
      const notifications = p.NotificationsWithSubscribers as Array<{ Notification: Record<string, Json>; Subscribers: Json[] }>;
      expect(notifications.map((n) => `${String(n.Notification.NotificationType)}:${String(n.Notification.Threshold)}`)).toEqual([
        'ACTUAL:80',
        'ACTUAL:100',
        'FORECASTED:100',
      ]);
      for (const n of notifications) expect(n.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: { Ref: 'AlertTopic' } }]);
      // A budget watches the whole account: the prod stack creates it, dev and staging do not (unless told to).
      const budgetIn = (environment: string, accountBudget = 'auto') =>
        'MonthlyBudget' in resolveVariant(infrastructure, { ...VARIANT_PARAMETERS, Environment: environment, AccountBudget: accountBudget }).Resources;
      expect([budgetIn('prod'), budgetIn('staging'), budgetIn('dev')]).toEqual([true, false, false]);
      expect([budgetIn('dev', 'true'), budgetIn('prod', 'false')]).toEqual([true, false]);
    });

    const metricsOf = (p: Record<string, Json>) =>
      p.Metrics
        ? (p.Metrics as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string } } }>).flatMap((m) =>
            m.MetricStat ? [`${m.MetricStat.Metric.Namespace}:${m.MetricStat.Metric.MetricName}`] : [],
          )
        : [`${String(p.Namespace)}:${String(p.MetricName)}`];

    it('basic: at most 3 alarms, on free AWS metrics only: API 5xx, Lambda errors and throttles, refused requests (4xx)', () => {
      const alarms = resourcesOfType(VARIANTS.basic, 'AWS::CloudWatch::Alarm');
      expect(alarms.length).toBeLessThanOrEqual(3);
      expect(alarms.flatMap(([, a]) => metricsOf(props(a))).sort()).toEqual([
        'AWS/ApiGateway:4xx',
        'AWS/ApiGateway:5xx',
        'AWS/Lambda:Errors',
        'AWS/Lambda:Throttles',
      ]);
      expect(props(VARIANTS.basic.Resources.RefusedRequestsAlarm)).toMatchObject({ Threshold: { Ref: 'RefusedRequestsThreshold' }, Period: 300 });
      for (const [id, alarm] of alarms) {
        expect(props(alarm).AlarmActions, id).toEqual([{ Ref: 'AlertTopic' }]);
        expect(subText(props(alarm).AlarmName), id).toMatch(/^\$\{AWS::StackName\}-/);
      }
    });

    it('full: alarms on Lambda errors, throttles and duration, API 5xx, table throttles and signature failures, to the topic', () => {
      const alarms = resourcesOfType(VARIANTS.full, 'AWS::CloudWatch::Alarm');
      expect(alarms.flatMap(([, a]) => metricsOf(props(a)).map((m) => m.split(':')[1])).sort()).toEqual(
        [
          'Duration',
          'Errors',
          'ReadThrottleEvents',
          'ReadThrottleEvents',
          'SignatureFailures',
          'Throttles',
          'WriteThrottleEvents',
          'WriteThrottleEvents',
          '5xx',
        ].sort(),
      );
      for (const [id, alarm] of alarms) {
        expect(props(alarm).AlarmActions, id).toEqual([{ Ref: 'AlertTopic' }]);
        // The topic policy admits CloudWatch only for alarms named after the stack.
        expect(subText(props(alarm).AlarmName), id).toMatch(/^\$\{AWS::StackName\}-/);
      }
      expect(props(resources.SignatureFailuresAlarm)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: 'SignatureFailures',
        Dimensions: [{ Name: 'Service', Value: SERVICE_NAME }],
      });
    });

    it('basic references no custom metric namespace: not in alarms, not in the dashboard, not in the function', () => {
      const stack = JSON.stringify(VARIANTS.basic.Resources);
      expect(stack).not.toContain(METRICS_NAMESPACE);
      const namespaces = [
        ...stack.matchAll(/\\"(AWS\/[A-Za-z]+|[A-Za-z]+)\\", \\"[A-Za-z0-9]+\\", \\"(?:ApiId|FunctionName|TableName|TopicName|Service)\\"/g),
      ].map((m) => m[1]);
      expect(namespaces.length).toBeGreaterThan(0);
      for (const namespace of namespaces) expect(namespace).toMatch(/^AWS\/(ApiGateway|Lambda|DynamoDB|SNS)$/);
      for (const [, alarm] of resourcesOfType(VARIANTS.basic, 'AWS::CloudWatch::Alarm')) {
        for (const metric of metricsOf(props(alarm))) expect(metric).toMatch(/^AWS\//);
      }
    });

    it('alarms only on handler metrics, in the namespace and with a dimension set, that src/webhooks/telemetry.ts emits', () => {
      const { emitted, dimensionSets, namespace, line } = emittedMetrics();
      const custom = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm').filter(([, a]) => !String(props(a).Namespace ?? 'AWS/').startsWith('AWS/'));
      expect(custom.map(([id]) => id)).toEqual(['SignatureFailuresAlarm']);
      expect(resources.SignatureFailuresAlarm?.Condition).toBe('FullMonitoring');
      for (const [id, alarm] of custom) {
        const p = props(alarm);
        expect(p.Namespace, id).toBe(namespace);
        expect(emitted, id).toContain(p.MetricName);
        const dimensions = p.Dimensions as Array<{ Name: string; Value: Json }>;
        expect(dimensionSets, id).toContainEqual(dimensions.map((d) => d.Name));
        for (const d of dimensions) expect(d.Value, `${id} ${d.Name}`).toBe(line[d.Name]);
      }
    });

    const dashboardRows = (body: string) => [...body.matchAll(/\[("[^"\]]+"(?:, "[^"\]]+")*)/g)].map((m) => JSON.parse(`[${m[1]!}]`) as string[]);

    it('full: a dashboard with webhook traffic, outcomes, latency, table activity and the alarms', () => {
      const body = subText(props(VARIANTS.full.Resources.BillingDashboard).DashboardBody);
      for (const metric of ['"Count"', '"Events"', '"Duplicates"', '"SignatureFailures"', '"Latency"', '"ConsumedWriteCapacityUnits"', '"type": "alarm"']) {
        expect(body).toContain(metric);
      }
      // Every non-AWS metric of the dashboard is one the handler emits, under its namespace and Service dimension.
      const { emitted, namespace, line } = emittedMetrics();
      const custom = dashboardRows(body).filter((row) => !row[0]!.startsWith('AWS/'));
      expect(custom.length).toBeGreaterThan(0);
      for (const [ns, metric, dimension, value] of custom) {
        expect(ns, metric).toBe(namespace);
        expect(emitted, metric).toContain(metric);
        expect([dimension, value], metric).toEqual(['Service', line.Service]);
      }
      const alarms = resourcesOfType(VARIANTS.full, 'AWS::CloudWatch::Alarm').map(([id]) => id);
      expect([...referencedIds(props(VARIANTS.full.Resources.BillingDashboard).DashboardBody)]).toEqual(expect.arrayContaining(alarms));
    });

    it('basic: a dashboard of free AWS metrics, a Logs Insights table of outcomes and event types, and its alarms', () => {
      const body = subText(props(VARIANTS.basic.Resources.BillingDashboard).DashboardBody);
      const rows = dashboardRows(body).filter((row) => /^[A-Z]/.test(row[0]!) && row.length >= 4);
      expect(rows.length).toBeGreaterThan(0);
      expect(new Set(rows.map((row) => row[0]))).toEqual(new Set(['AWS/ApiGateway', 'AWS/Lambda', 'AWS/DynamoDB', 'AWS/SNS']));
      // CloudWatch's free tier: 3 dashboards of up to 50 metrics each.
      expect(rows.length).toBeLessThanOrEqual(50);
      expect(body).toContain('"type": "log"');
      expect(body).toMatch(/SOURCE '\$\{WebhookLogGroup\}'.*stats count\(\*\) as deliveries by outcome, eventType/);
      const alarms = resourcesOfType(VARIANTS.basic, 'AWS::CloudWatch::Alarm').map(([id]) => id);
      expect([...referencedIds(props(VARIANTS.basic.Resources.BillingDashboard).DashboardBody)]).toEqual(expect.arrayContaining(alarms));
      // Both variants keep one dashboard resource, so switching never deletes the dashboard just written.
      expect(resourcesOfType(VARIANTS.basic, 'AWS::CloudWatch::Dashboard').map(([id]) => id)).toEqual(['BillingDashboard']);
    });
  });

  describe('roles of the GitHub jobs', () => {
    const statements = policyStatements(infrastructure);
    const trustedSubjects = (role: string) => {
      const trust = statements.find((s) => s.resource === role && s.kind === 'trust')!.statement;
      return flattenValues((trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub']).map(subText);
    };
    const actionsOf = (role: string) =>
      statements
        .filter((s) => s.resource === role && s.kind === 'permissions')
        .flatMap((s) => list(s.statement.Action).map(String))
        .sort();
    const rolesReadingStripe = () =>
      [...new Set(statements.filter((s) => s.kind === 'permissions' && list(s.statement.Action).includes('ssm:GetParameter')).map((s) => s.resource))].filter(
        (role) => JSON.stringify(statements.filter((s) => s.resource === role)).includes('secret-key'),
      );

    it('gives the cost-check role no ssm:GetParameter at all, so it can read no Stripe parameter', () => {
      const actions = actionsOf('CostCheckRole');
      expect(actions).toEqual(
        [
          'ce:GetCostAndUsage',
          'ce:GetCostForecast',
          'dynamodb:BatchWriteItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'sns:Publish',
        ].sort(),
      );
      expect(actions.filter((a) => a.startsWith('ssm:') || a.startsWith('kms:') || a.startsWith('secretsmanager:'))).toEqual([]);
      const table = statements.find((s) => s.resource === 'CostCheckRole' && list(s.statement.Action).includes('dynamodb:PutItem'))!.statement;
      expect(table.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ALERT#*'] } });
      expect(alertKey('2026-11', 'TOTAL', 'actual', 80).pk).toMatch(/^ALERT#/);
    });

    it('trusts the cost-check role for main only', () => {
      expect(trustedSubjects('CostCheckRole')).toEqual([
        'repo:${GitHubOwner}/${GitHubRepository}:ref:refs/heads/main',
        'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:ref:refs/heads/main',
        'repo:${GitHubOwner}/${GitHubRepository}:ref:refs/heads/main',
      ]);
    });

    it("lets only the billing role read the Stripe secret key, its own environment's", () => {
      expect(rolesReadingStripe()).toEqual(['BillingRole']);
      const secret = statements.find((s) => s.resource === 'BillingRole' && s.statement.Sid === 'ReadStripeSecretKey')!.statement;
      expect(secret.Resource).toEqual({
        'Fn::Sub': [
          'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${Name}',
          { Name: { 'Fn::If': ['HasStripeSecretKeyName', { Ref: 'StripeSecretKeyParameter' }, { 'Fn::Sub': '/stripe/${Environment}/secret-key' }] } },
        ],
      });
      expect(actionsOf('BillingRole')).toEqual(
        [
          'ce:GetCostAndUsage',
          'ce:GetCostForecast',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
          'sns:Publish',
          'ssm:GetParameter',
        ].sort(),
      );
    });

    it('trusts every role that reaches a Stripe secret only for GitHub environment subjects, never a branch', () => {
      const oidcRoles = [
        ...new Set(statements.filter((s) => s.kind === 'trust' && JSON.stringify(s.statement.Principal).includes(OIDC_PROVIDER)).map((s) => s.resource)),
      ];
      const stripeRoles = oidcRoles.filter((role) => actionsOf(role).includes('ssm:GetParameter'));
      expect(stripeRoles).toEqual(['BillingRole']);
      for (const role of stripeRoles) {
        const subjects = trustedSubjects(role);
        expect(subjects.length).toBeGreaterThan(0);
        for (const subject of subjects) expect(subject, role).toMatch(/:environment:billing(-approval)?$/);
      }
      expect(new Set(trustedSubjects('BillingRole'))).toEqual(
        new Set([
          'repo:${GitHubOwner}/${GitHubRepository}:environment:billing',
          'repo:${GitHubOwner}/${GitHubRepository}:environment:billing-approval',
          'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:environment:billing',
          'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:environment:billing-approval',
        ]),
      );
    });

    it('trusts the billing role for exactly the environments the workflows that assume it run in', async () => {
      const trusted = new Set(trustedSubjects('BillingRole').flatMap((s) => /:environment:(.+)$/.exec(s)?.[1] ?? []));
      const used = new Set<string>();
      for (const file of await readdir('.github/workflows')) {
        const workflow = parse(await readFile(`.github/workflows/${file}`, 'utf8')) as { jobs?: Record<string, { environment?: string; steps?: unknown[] }> };
        for (const job of Object.values(workflow.jobs ?? {})) {
          if (JSON.stringify(job.steps ?? []).includes('vars.AWS_BILLING_ROLE_ARN')) used.add(String(job.environment));
        }
      }
      expect(used.size).toBeGreaterThan(0);
      expect(used).toEqual(trusted);
    });
  });

  it('outputs the webhook URL, table names, topic ARN, role ARNs and the Stripe parameter names', () => {
    expect(Object.keys(infrastructure.Outputs ?? {})).toEqual(
      expect.arrayContaining([
        'WebhookUrl',
        'BillingTableName',
        'SubscriptionsTableName',
        'AlertTopicArn',
        'WebhookFunctionRoleArn',
        'CostCheckRoleArn',
        'BillingRoleArn',
        'StripeSecretKeyParameterName',
        'WebhookSecretParameterName',
      ]),
    );
  });
});

describe('scripts/bootstrap.yaml', () => {
  const resources = bootstrap.Resources;

  it('creates the OIDC provider only when the account has none', () => {
    expect(resources.GitHubOidcProvider).toMatchObject({
      Condition: 'CreateProvider',
      Properties: { Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] },
    });
  });

  it('trusts the deploy role only for the GitHub environment of the same name', () => {
    const trust = policyStatements(bootstrap).find((s) => s.resource === 'DeployRole' && s.kind === 'trust')!.statement;
    const subjects = flattenValues((trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub']).map(
      subText,
    );
    expect(new Set(subjects)).toEqual(
      new Set([
        'repo:${GitHubOwner}/${GitHubRepository}:environment:${Environment}',
        'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:environment:${Environment}',
      ]),
    );
  });

  it('lets the deploy role change its own stack only through the execution role', () => {
    const permissions = policyStatements(bootstrap)
      .filter((s) => s.resource === 'DeployRole' && s.kind === 'permissions')
      .map((s) => s.statement);
    const deny = permissions.find((s) => s.Effect === 'Deny')!;
    expect(deny.Action).toEqual(expect.arrayContaining(['cloudformation:CreateChangeSet', 'cloudformation:CreateStack', 'cloudformation:UpdateStack']));
    expect(deny.Condition).toEqual({ StringNotEquals: { 'cloudformation:RoleArn': { 'Fn::GetAtt': ['CloudFormationExecutionRole', 'Arn'] } } });
    const pass = permissions.find((s) => s.Action === 'iam:PassRole')!;
    expect(pass.Resource).toEqual({ 'Fn::GetAtt': ['CloudFormationExecutionRole', 'Arn'] });
    const stack = permissions.find((s) => list(s.Action).includes('cloudformation:ExecuteChangeSet'))!;
    expect(subText(stack.Resource)).toBe('arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}:stack/${StackNamePrefix}-${Environment}/*');
  });

  it('lets the execution role create roles only with the permissions boundary, and never delete a table', () => {
    const permissions = policyStatements(bootstrap)
      .filter((s) => s.resource === 'CloudFormationExecutionRole' && s.kind === 'permissions')
      .map((s) => s.statement);
    const actions = permissions.flatMap((s) => list(s.Action));
    expect(actions).not.toContain('dynamodb:DeleteTable');
    expect(actions).not.toContain('iam:AttachRolePolicy');
    const create = permissions.find((s) => list(s.Action).includes('iam:CreateRole'))!;
    expect(create.Condition).toEqual({ StringEquals: { 'iam:PermissionsBoundary': { Ref: 'WorkloadPermissionsBoundary' } } });
    for (const statement of permissions.filter((s) => list(s.Action).some((a) => String(a).startsWith('iam:')))) {
      for (const resource of list(statement.Resource)) expect(subText(resource)).toMatch(/:role\/\$\{StackNamePrefix\}-\$\{Environment\}-\*$/);
    }
    // The application stack hands the boundary to every role it creates.
    for (const [id, role] of resourcesOfType(infrastructure, 'AWS::IAM::Role')) {
      expect(props(role).PermissionsBoundary, id).toEqual({ 'Fn::If': ['HasPermissionsBoundary', { Ref: 'PermissionsBoundaryArn' }, { Ref: 'AWS::NoValue' }] });
    }
  });

  it("bounds every stack role to its own environment's Stripe parameters", () => {
    const boundary = policyStatements(bootstrap).filter((s) => s.resource === 'WorkloadPermissionsBoundary');
    const ssm = boundary.filter((s) => list(s.statement.Action).some((a) => String(a).startsWith('ssm:')));
    expect(ssm.map((s) => subText(s.statement.Resource))).toEqual([
      'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/stripe/${Environment}/*',
    ]);
  });

  it("lets the execution role change only the stack's own log groups (listing them is the one region-wide read)", () => {
    const permissions = policyStatements(bootstrap).filter((s) => s.resource === 'CloudFormationExecutionRole' && s.kind === 'permissions');
    for (const { statement } of permissions.filter((s) => list(s.statement.Action).some((a) => String(a).startsWith('logs:')))) {
      const resources = list(statement.Resource).map(subText);
      if (resources.some((r) => r.endsWith(':log-group:*'))) expect(statement.Action).toBe('logs:DescribeLogGroups');
      else for (const r of resources) expect(r).toMatch(/:log-group:\/aws\/lambda\/\$\{StackNamePrefix\}-\$\{Environment\}-\*$/);
    }
  });

  it('refuses the execution role any change to an HTTP API, stage or tag set that CloudFormation created for another stack', () => {
    const deny = policyStatements(bootstrap).find(
      (s) => s.resource === 'CloudFormationExecutionRole' && s.statement.Sid === 'NoOtherStacksHttpApis',
    )!.statement;
    expect(deny.Effect).toBe('Deny');
    expect(deny.Action).toEqual(['apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE']);
    expect(deny.Condition).toEqual({
      StringNotEqualsIfExists: { 'aws:ResourceTag/aws:cloudformation:stack-name': { 'Fn::Sub': '${StackNamePrefix}-${Environment}' } },
    });
  });

  it('keeps artifacts in a private, encrypted, versioned bucket', () => {
    const p = props(resources.ArtifactsBucket);
    expect(p.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(JSON.stringify(p.BucketEncryption)).toContain('AES256');
    expect(Object.keys(bootstrap.Outputs ?? {})).toEqual(
      expect.arrayContaining(['DeployRoleArn', 'ExecutionRoleArn', 'PermissionsBoundaryArn', 'ArtifactsBucketName']),
    );
  });
});

/** What src/webhooks/telemetry.ts puts in one EMF line: namespace, metric names, dimension sets and their values. */
function emittedMetrics() {
  const line = metricsLine(
    { eventType: 'invoice.paid', outcome: 'processed', latencyMs: 1, signatureFailure: false, duplicate: false },
    0,
  ) as unknown as Record<string, unknown> & {
    _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> };
  };
  const directives = line._aws.CloudWatchMetrics;
  expect(new Set(directives.map((d) => d.Namespace)).size).toBe(1);
  // The alarms and the dashboard read the service-level metrics: those of the directive keyed by Service alone.
  const serviceLevel = directives.filter((d) => d.Dimensions.some((set) => set.length === 1 && set[0] === 'Service'));
  expect(serviceLevel).toHaveLength(1);
  return { namespace: directives[0]!.Namespace, dimensionSets: serviceLevel[0]!.Dimensions, emitted: serviceLevel[0]!.Metrics.map((m) => m.Name), line };
}
