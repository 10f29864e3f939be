import { describe, expect, it } from 'vitest';
import { BILLING_TABLE_KEYS, BY_CUSTOMER_INDEX } from '../../src/store/keys.js';
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
        shape === 'map'
          ? (tags as Record<string, Json>)
          : Object.fromEntries((tags as Array<{ Key: string; Value: Json }>).map((t) => [t.Key, t.Value]));
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
        expect(actions.filter((action) => !NO_RESOURCE_LEVEL_PERMISSIONS.has(action)), where).toEqual([]);
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
      const attributes = (p.AttributeDefinitions as Array<{ AttributeName: string; AttributeType: string }>).map((a) => `${a.AttributeName}:${a.AttributeType}`);
      expect(attributes.sort()).toEqual(['gsi1pk:S', 'gsi1sk:S', 'pk:S', 'sk:S']);
    });

    it('gives the subscriptions table a single string hash key pk and no TTL', () => {
      const p = props(resources.SubscriptionsTable);
      expect(p.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
      expect(p.AttributeDefinitions).toEqual([{ AttributeName: 'pk', AttributeType: 'S' }]);
      expect(p.TimeToLiveSpecification).toBeUndefined();
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
        Timeout: 10,
        Code: { S3Bucket: { Ref: 'ArtifactBucket' }, S3Key: { Ref: 'ArtifactKey' } },
        Role: { 'Fn::GetAtt': ['WebhookFunctionRole', 'Arn'] },
        LoggingConfig: { LogGroup: { Ref: 'WebhookLogGroup' } },
      });
      expect(props(resources.WebhookLogGroup).RetentionInDays).toEqual({ Ref: 'LogRetentionDays' });
    });

    it('passes the table names, topic ARN and webhook secret parameter name in the environment', () => {
      expect((props(resources.WebhookFunction).Environment as { Variables: Json }).Variables).toEqual({
        BILLING_TABLE: { Ref: 'BillingTable' },
        SUBSCRIPTIONS_TABLE: { Ref: 'SubscriptionsTable' },
        SNS_TOPIC_ARN: { Ref: 'AlertTopic' },
        WEBHOOK_SECRET_PARAMETER: { Ref: 'WebhookSecretParameter' },
      });
    });

    it('has a role limited to its log group, the two tables, the topic and the webhook secret', () => {
      const statements = policyStatements(infrastructure).filter((s) => s.resource === 'WebhookFunctionRole' && s.kind === 'permissions');
      const targets = statements.flatMap((s) => list(s.statement.Resource)).flatMap((r) => [...referencedIds(r)]);
      expect(new Set(targets)).toEqual(new Set(['WebhookLogGroup', 'BillingTable', 'SubscriptionsTable', 'AlertTopic', 'WebhookSecretParameter']));
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
      const statements = ((props(resources.AlertTopicPolicy).PolicyDocument as { Statement: Array<Record<string, Json>> }).Statement).filter(
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
      expect(resources.AlertEmailSubscription).toMatchObject({ Condition: 'HasAlertEmail', Properties: { Protocol: 'email', TopicArn: { Ref: 'AlertTopic' } } });
      expect(infrastructure.Conditions?.HasAlertEmail).toEqual({ 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertEmail' }, ''] }] });
    });

    it('budgets the monthly cost at the threshold with notifications to the topic', () => {
      const p = props(resources.MonthlyBudget);
      expect(p.Budget).toMatchObject({ BudgetType: 'COST', TimeUnit: 'MONTHLY', BudgetLimit: { Amount: { Ref: 'BudgetThreshold' }, Unit: 'USD' } });
      const notifications = p.NotificationsWithSubscribers as Array<{ Notification: Record<string, Json>; Subscribers: Json[] }>;
      expect(notifications.map((n) => `${String(n.Notification.NotificationType)}:${String(n.Notification.Threshold)}`)).toEqual(['ACTUAL:80', 'ACTUAL:100', 'FORECASTED:100']);
      for (const n of notifications) expect(n.Subscribers).toEqual([{ SubscriptionType: 'SNS', Address: { Ref: 'AlertTopic' } }]);
    });

    it('alarms on Lambda errors, throttles and duration, API 5xx, table throttles and signature failures, to the topic', () => {
      const alarms = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm');
      const metricsOf = (p: Record<string, Json>) =>
        p.Metrics ? (p.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string } } }>).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])) : [String(p.MetricName)];
      expect(alarms.flatMap(([, a]) => metricsOf(props(a))).sort()).toEqual(
        ['Duration', 'Errors', 'ReadThrottleEvents', 'ReadThrottleEvents', 'SignatureFailures', 'Throttles', 'WriteThrottleEvents', 'WriteThrottleEvents', '5xx'].sort(),
      );
      for (const [id, alarm] of alarms) {
        expect(props(alarm).AlarmActions, id).toEqual([{ Ref: 'AlertTopic' }]);
        // The topic policy admits CloudWatch only for alarms named after the stack.
        expect(subText(props(alarm).AlarmName), id).toMatch(/^\$\{AWS::StackName\}-/);
      }
      expect(props(resources.SignatureFailuresAlarm)).toMatchObject({
        Namespace: 'StripeBilling',
        MetricName: 'SignatureFailures',
        Dimensions: [{ Name: 'Service', Value: 'billing-handler' }],
      });
    });

    it('has a dashboard with webhook traffic, outcomes, latency, table activity and the alarms', () => {
      const body = subText(props(resources.BillingDashboard).DashboardBody);
      for (const metric of ['"Count"', '"EventsProcessed"', '"Duplicates"', '"SignatureFailures"', '"Latency"', '"ConsumedWriteCapacityUnits"', '"type": "alarm"']) {
        expect(body).toContain(metric);
      }
      const alarms = resourcesOfType(infrastructure, 'AWS::CloudWatch::Alarm').map(([id]) => id);
      expect([...referencedIds(props(resources.BillingDashboard).DashboardBody)]).toEqual(expect.arrayContaining(alarms));
    });
  });

  describe('role of the scheduled GitHub jobs', () => {
    const statements = policyStatements(infrastructure).filter((s) => s.resource === 'BillingJobsRole');

    it('is trusted for main and the billing environments of this repository', () => {
      const trust = statements.find((s) => s.kind === 'trust')!.statement;
      const subjects = flattenValues((trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub']).map(subText);
      expect(subjects).toEqual(
        expect.arrayContaining([
          'repo:${GitHubOwner}/${GitHubRepository}:ref:refs/heads/main',
          'repo:${GitHubOwner}/${GitHubRepository}:environment:billing-approval',
          'repo:${GitHubOwner}@${GitHubOwnerId}/${GitHubRepository}@${GitHubRepositoryId}:ref:refs/heads/main',
        ]),
      );
    });

    it('reads costs, uses the billing table and its index, publishes alerts and reads the Stripe secret key', () => {
      const permissions = statements.filter((s) => s.kind === 'permissions').map((s) => s.statement);
      const actions = permissions.flatMap((s) => list(s.Action)).sort();
      expect(actions).toEqual(
        [
          'ce:GetCostAndUsage',
          'ce:GetCostForecast',
          'dynamodb:ConditionCheckItem',
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
      expect(table.Resource).toEqual([{ 'Fn::GetAtt': ['BillingTable', 'Arn'] }, { 'Fn::Sub': '${BillingTable.Arn}/index/*' }]);
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
    const subjects = flattenValues((trust.Condition as Record<string, Record<string, Json>>).StringEquals!['token.actions.githubusercontent.com:sub']).map(subText);
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
    expect(Object.keys(bootstrap.Outputs ?? {})).toEqual(expect.arrayContaining(['DeployRoleArn', 'ExecutionRoleArn', 'PermissionsBoundaryArn', 'ArtifactsBucketName']));
  });
});
