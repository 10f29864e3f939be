// The floor for the webhook Lambda's start-up: a bundle of only the AWS SDK clients and commands the handler uses
// (DynamoDB through the document client, SNS, SSM), bundled as the Lambda is (scripts/lambdaBundle.mjs). The start-up
// bench checks that it holds the same AWS packages as the real bundle.
export { DynamoDBClient } from '@aws-sdk/client-dynamodb';
export { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
export { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
export { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
