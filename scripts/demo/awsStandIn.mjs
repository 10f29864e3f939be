// The AWS side of the demo, on 127.0.0.1 with no account: Cost Explorer answering the sample month, SSM holding the
// two Stripe secrets, SNS keeping what is published (in a file, so a second run sees the first run's messages), and
// DynamoDB as dynalite behind a proxy that adds TransactWriteItems, which dynalite lacks.
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { costAndUsagePage } from './sampleCosts.mjs';

const require = createRequire(import.meta.url);

export const DEMO_ACCOUNT = '123456789012';

/** Starts every stand-in; `close()` stops them. */
export async function startAwsStandIn({ state, costs, parameters }) {
  const dynalite = require('dynalite')({ path: join(state, 'dynamodb'), createTableMs: 0 });
  dynalite.listen(0, '127.0.0.1');
  await once(dynalite, 'listening');
  const dynaliteUrl = `http://127.0.0.1:${dynalite.address().port}`;

  const snsFile = join(state, 'sns-messages.json');
  const published = existsSync(snsFile) ? JSON.parse(readFileSync(snsFile, 'utf8')) : [];

  const server = createServer(async (request, response) => {
    const chunks = [];
    for await (const chunk of request) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(request.headers['x-amz-target'] ?? '');
    const reply = (status, type, text) => {
      response.writeHead(status, { 'content-type': type });
      response.end(text);
    };
    if (target.startsWith('AWSInsightsIndexService.')) {
      // Answers GetCostAndUsage for the request's granularity, grouping and page, as Cost Explorer does.
      return reply(200, 'application/x-amz-json-1.1', JSON.stringify(costAndUsagePage(costs, JSON.parse(body || '{}'))));
    }
    if (target === 'AmazonSSM.GetParameter') {
      const name = JSON.parse(body).Name;
      if (!(name in parameters)) return reply(400, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'ParameterNotFound', message: name }));
      return reply(200, 'application/x-amz-json-1.1', JSON.stringify({ Parameter: { Name: name, Type: 'SecureString', Value: parameters[name], Version: 1 } }));
    }
    if (target.startsWith('DynamoDB_20120810.')) return forwardToDynamo(dynaliteUrl, target, body, request.headers, response);
    const form = new URLSearchParams(body);
    if (form.get('Action') === 'Publish') {
      const messageId = `demo-${published.length + 1}`;
      published.push({ messageId, subject: form.get('Subject') ?? '', message: form.get('Message') ?? '', attributes: snsAttributes(form) });
      writeFileSync(snsFile, JSON.stringify(published, null, 2));
      return reply(200, 'text/xml', `<PublishResponse><PublishResult><MessageId>${messageId}</MessageId></PublishResult></PublishResponse>`);
    }
    reply(400, 'application/json', JSON.stringify({ message: `the demo does not stand in for ${target || form.get('Action') || request.url}` }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    published,
    close() {
      server.close();
      dynalite.close();
    },
  };
}

function snsAttributes(form) {
  const attributes = {};
  for (let n = 1; form.has(`MessageAttributes.entry.${n}.Name`); n++) {
    attributes[form.get(`MessageAttributes.entry.${n}.Name`)] = form.get(`MessageAttributes.entry.${n}.Value.StringValue`);
  }
  return attributes;
}

async function dynamo(dynaliteUrl, operation, payload) {
  const response = await fetch(dynaliteUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `DynamoDB_20120810.${operation}`,
      'x-amz-date': '20260101T000000Z',
      authorization: 'AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: await response.json() };
}

/**
 * TransactWriteItems as the demo needs it: one process bills one customer at a time, so the items are applied one
 * after another, each with its condition; a failed condition cancels the rest, as DynamoDB reports it.
 */
async function forwardToDynamo(dynaliteUrl, target, body, headers, response) {
  const reply = (status, payload) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(JSON.stringify(payload));
  };
  if (target !== 'DynamoDB_20120810.TransactWriteItems') {
    const forwarded = httpRequest(dynaliteUrl, { method: 'POST', headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 500, answer.headers);
      answer.pipe(response);
    });
    forwarded.end(body);
    return;
  }
  const items = JSON.parse(body).TransactItems;
  const reasons = items.map(() => ({ Code: 'None' }));
  for (const [index, item] of items.entries()) {
    const [kind, operation] = item.Put ? ['Put', 'PutItem'] : item.Update ? ['Update', 'UpdateItem'] : ['Delete', 'DeleteItem'];
    if (!item[kind])
      return reply(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#ValidationException',
        message: 'the demo supports Put, Update and Delete in a transaction',
      });
    const call = await dynamo(dynaliteUrl, operation, item[kind]);
    if (call.status !== 200) {
      reasons[index] = {
        Code: String(call.body.__type ?? '').includes('ConditionalCheckFailed') ? 'ConditionalCheckFailed' : 'ValidationError',
        Message: call.body.message,
      };
      return reply(400, {
        __type: 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        CancellationReasons: reasons,
      });
    }
  }
  reply(200, {});
}
