import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { listenCounting, type CountingServer } from './processes.js';

const TARGET_PREFIX = 'DynamoDB_20120810.';
/** TransactWriteItems' item kinds, as the single-item operations that apply them. */
const SINGLE_OPERATION = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem' } as const;

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A proxy in front of dynalite that counts every DynamoDB request by operation, as the action sent it, and serves
 * TransactWriteItems, which dynalite lacks, by applying its items one after another as the conditional PutItem,
 * UpdateItem and DeleteItem they hold. That is not atomic: a failed condition after the first item leaves the items
 * before it written (answered as DynamoDB answers, TransactionCanceledException with the reasons). The benchmarks
 * have one writer per customer, so their conditions hold; the tests check the real semantics against moto.
 */
export async function startDynaliteWithTransactions(upstream: string): Promise<CountingServer> {
  const target = new URL(upstream);
  const requests = new Map<string, number>();

  function send(headers: IncomingHttpHeaders, method: string, path: string, body: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method, path, headers: { ...headers, host: target.host, 'content-length': Buffer.byteLength(body) } },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('end', () => resolve({ status: answer.statusCode ?? 502, headers: answer.headers, body: Buffer.concat(chunks).toString('utf8') }));
        },
      );
      forward.on('error', reject);
      forward.end(body);
    });
  }

  async function transactWrite(headers: IncomingHttpHeaders, path: string, body: string): Promise<Answer> {
    const items = (JSON.parse(body) as { TransactItems: Array<Record<string, Record<string, unknown>>> }).TransactItems;
    const reasons: Array<{ Code: string; Message?: string }> = items.map(() => ({ Code: 'None' }));
    for (const [index, item] of items.entries()) {
      const [kind, request] = Object.entries(item)[0] ?? [];
      const operation = SINGLE_OPERATION[kind as keyof typeof SINGLE_OPERATION];
      if (!operation || !request) return failure(400, 'ValidationException', `this stand-in applies Put, Update and Delete items, not ${kind}`);
      const single = { ...request };
      delete single.ReturnValuesOnConditionCheckFailure;
      const answer = await send({ ...headers, 'x-amz-target': `${TARGET_PREFIX}${operation}` }, 'POST', path, JSON.stringify(single));
      if (answer.status === 200) continue;
      const error = JSON.parse(answer.body) as { __type?: string; message?: string };
      if (!error.__type?.endsWith('ConditionalCheckFailedException')) return answer;
      reasons[index] = { Code: 'ConditionalCheckFailed', Message: error.message ?? 'The conditional request failed' };
      return failure(
        400,
        'TransactionCanceledException',
        `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        {
          CancellationReasons: reasons,
        },
      );
    }
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' };
  }

  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const operation = String(req.headers['x-amz-target'] ?? '').replace(TARGET_PREFIX, '');
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
    try {
      const answer =
        operation === 'TransactWriteItems'
          ? await transactWrite(req.headers, req.url ?? '/', body)
          : await send(req.headers, req.method ?? 'POST', req.url ?? '/', body);
      const headers = { ...answer.headers };
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      res.writeHead(answer.status, headers).end(answer.body);
    } catch {
      res.writeHead(502).end();
    }
  });
  return listenCounting(server, requests);
}

function failure(status: number, type: string, message: string, extra: Record<string, unknown> = {}): Answer {
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}
