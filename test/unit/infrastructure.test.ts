import { readdir, readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BudgetAlert } from '../../src/alerts/evaluate.js';
import { dynamoAlertMarkers } from '../../src/store/alertMarkers.js';
import { BILLING_TABLE_KEYS, BY_CUSTOMER_INDEX, BY_STRIPE_CUSTOMER_INDEX, SUBSCRIPTIONS_TABLE_KEYS } from '../../src/store/keys.js';
import { CLAIM_LEASE_MS, dynamoEventLedger } from '../../src/store/webhookStore.js';
import { METRICS_NAMESPACE, metricsLine, SERVICE_NAME } from '../../src/webhooks/telemetry.js';
import { flattenValues, loadTemplate, policyStatements, referencedIds, type Json, type Resource, type Template } from '../support/cloudformation.js';

/**
 * Static checks of the two CloudFormation templates: what moto cannot create (HTTP API, PITR, TTL, policies) and
 * the rules of the house for every resource (tags, retention of data, least privilege, OIDC trust).
 */
const infrastructure = loadTemplate('infrastructure.yaml');
const bootstrap = loadTemplate('scripts/bootstrap.yaml');
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
    expect(parameters.BudgetThreshold).toMatchObject({ Type: 'Number', Default: 800 });
    expect(parameters.AlertEmail?.Default).toBe('');
    expect(parameters.WebhookSecretParameter?.Default).toBe('/stripe/webhook-secret');
    expect(parameters.StripeSecretKeyParameter?.Default).toBe('/stripe/secret-key');
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

    it('gives the billing table the key scheme, index and TTL attribute of src/store/keys.ts', () => {
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

    it('gives the subscriptions table the key and byStripeCustomer index of src/store/keys.ts, and no TTL', () => {
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

      await dynamoEventLedger(dynamo, 'billing').claim({ eventId: 'evt_1', eventType: 'invoice.paid', eventCreated: 1 }, nowMs);
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

    it('passes the table names, topic ARN and webhook secret parameter name in the environment', () => {
      expect((props(resources.WebhookFunction).Environment as { Variables: Json }).Variables).toEqual({
        BILLING_TABLE: { Ref: 'BillingTable' },
        SUBSCRIPTIONS_TABLE: { Ref: 'SubscriptionsTable' },
        SNS_TOPIC_ARN: { Ref: 'AlertTopic' },
        WEBHOOK_SECRET_PARAMETER: { Ref: 'WebhookSecretParameter' },
      });
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
      expect(subText(secret.Resource)).toBe('arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${WebhookSecretParameter}');
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

    it('budgets the monthly cost at the threshold with notifications to the topic', () => {
      const p = props(resources.MonthlyBudget);
      expect(p.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: { Ref: 'BudgetThreshold' }, Unit: 'USD' } });
      const notifications = p.NotificationsWithSubscribers as Array<{ Notification: Record<string, Json>; Subscribers: Json[] }>;
      expect(notifications.map((n) => `${String(n.Notification.NotificationType)}:${String(n.Notification.Threshold)}`)).toEqual([
        'ACTUAL:80',
        'ACTUAL:100',
        'FORECASTED:100',
      ]);
      for (const n of notifications) expect(n.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: { Ref: 'AlertTopic' } }]);
    });

    it('alarms on Lambda errors, throttles and duration, API 5xx, table throttles and signature failures, to the topic', () => {
      const alarms = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm');
      const metricsOf = (p: Record<string, Json>) =>
        p.Metrics
          ? (p.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string } } }>).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))
          : [String(p.MetricName)];
      expect(alarms.flatMap(([, a]) => metricsOf(props(a))).sort()).toEqual(
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

    it('alarms only on handler metrics, in the namespace and with a dimension set, that src/webhooks/telemetry.ts emits', () => {
      const { emitted, dimensionSets, namespace, line } = emittedMetrics();
      const custom = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm').filter(([, a]) => !String(props(a).Namespace ?? 'AWS/').startsWith('AWS/'));
      expect(custom.map(([id]) => id)).toEqual(['SignatureFailuresAlarm']);
      for (const [id, alarm] of custom) {
        const p = props(alarm);
        expect(p.Namespace, id).toBe(namespace);
        expect(emitted, id).toContain(p.MetricName);
        const dimensions = p.Dimensions as Array<{ Name: string; Value: Json }>;
        expect(dimensionSets, id).toContainEqual(dimensions.map((d) => d.Name));
        for (const d of dimensions) expect(d.Value, `${id} ${d.Name}`).toBe(line[d.Name]);
      }
    });

    it('has a dashboard with webhook traffic, outcomes, latency, table activity and the alarms', () => {
      const body = subText(props(resources.BillingDashboard).DashboardBody);
      for (const metric of ['"Count"', '"Events"', '"Duplicates"', '"SignatureFailures"', '"Latency"', '"ConsumedWriteCapacityUnits"', '"type": "alarm"']) {
        expect(body).toContain(metric);
      }
      // Every non-AWS metric of the dashboard is one the handler emits, under its namespace and Service dimension.
      const { emitted, namespace, line } = emittedMetrics();
      const rows = [...body.matchAll(/\[("[^"\]]+"(?:, "[^"\]]+")*)/g)].map((m) => JSON.parse(`[${m[1]!}]`) as string[]);
      const custom = rows.filter((row) => !row[0]!.startsWith('AWS/'));
      expect(custom.length).toBeGreaterThan(0);
      for (const [ns, metric, dimension, value] of custom) {
        expect(ns, metric).toBe(namespace);
        expect(emitted, metric).toContain(metric);
        expect([dimension, value], metric).toEqual(['Service', line.Service]);
      }
      const alarms = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm').map(([id]) => id);
      expect([...referencedIds(props(resources.BillingDashboard).DashboardBody)]).toEqual(expect.arrayContaining(alarms));
    });
  });

  describe('role of the scheduled GitHub jobs', () => {
    const statements = policyStatements(infrastructure).filter((s) => s.resource === 'BillingJobsRole');

    it('is trusted for main (cost-check.yml) and the billing-approval environment (manual-billing.yml) only', () => {
      const trust = statements.find((s) => s.kind === 'trust')!.statement;
      const condition = (trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub'];
      const [, immutable, plain] = (condition as { 'Fn::If': [string, Json, Json] })['Fn::If'];
      const main = 'repo:${GitHubOwner}/${GitHubRepository}:ref:refs/heads/main';
      const approval = 'repo:${GitHubOwner}/${GitHubRepository}:environment:billing-approval';
      const ids = 'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}';
      expect(flattenValues(plain).map(subText)).toEqual([main, approval]);
      expect(flattenValues(immutable).map(subText)).toEqual([main, approval, `${ids}:ref:refs/heads/main`, `${ids}:environment:billing-approval`]);
    });

    it('trusts exactly the environments the workflows that assume it run in', async () => {
      const trust = statements.find((s) => s.kind === 'trust')!.statement;
      const subjects = flattenValues((trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub']).map(
        subText,
      );
      const trusted = new Set(subjects.flatMap((s) => /:environment:(.+)$/.exec(s)?.[1] ?? []));
      const used = new Set<string>();
      for (const file of await readdir('.github/workflows')) {
        const text = await readFile(`.github/workflows/${file}`, 'utf8');
        if (!text.includes('vars.AWS_BILLING_ROLE_ARN')) continue;
        for (const match of text.matchAll(/^ {4}environment: *([A-Za-z0-9_-]+) *$/gm)) used.add(match[1]!);
      }
      expect(used.size).toBeGreaterThan(0);
      expect(trusted).toEqual(used);
    });

    it('reads costs, uses the billing table (no index, no transaction), publishes alerts and reads the Stripe secret key', () => {
      const permissions = statements.filter((s) => s.kind === 'permissions').map((s) => s.statement);
      const actions = permissions.flatMap((s) => list(s.Action)).sort();
      expect(actions).toEqual(
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
      const table = permissions.find((s) => list(s.Action).includes('dynamodb:PutItem'))!;
      // src/store/ledger.ts queries a ledger partition of the table itself; nothing in src/store queries an index.
      expect(table.Resource).toEqual({ 'Fn::GetAtt': ['BillingTable', 'Arn'] });
      const secret = permissions.find((s) => s.Action === 'ssm:GetParameter')!;
      expect(subText(secret.Resource)).toContain('parameter${StripeSecretKeyParameter}');
    });
  });

  it('outputs the webhook URL, table names, topic ARN and role ARNs', () => {
    expect(Object.keys(infrastructure.Outputs ?? {})).toEqual(
      expect.arrayContaining(['WebhookUrl', 'BillingTableName', 'SubscriptionsTableName', 'AlertTopicArn', 'WebhookFunctionRoleArn', 'BillingJobsRoleArn']),
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
