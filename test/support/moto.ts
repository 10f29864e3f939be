import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/**
 * A real moto server (the AWS emulator) on 127.0.0.1, one per test file. SDK clients reach it through
 * `endpoint`; `reset()` clears every service between tests.
 */
export interface Moto {
  readonly endpoint: string;
  /** Environment for a child process (the built action) pointed at this server with dummy credentials. */
  readonly env: Record<string, string>;
  reset(): Promise<void>;
  seedCostAndUsage(results: readonly unknown[]): Promise<void>;
  /** Every message moto's SNS holds (published through any topic), oldest first. */
  snsMessages(): Promise<Array<{ topicArn: string; message: string; attributes: Record<string, string> }>>;
  stop(): Promise<void>;
}

export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' } as const;

/** `serverScript`: where moto_server.py is when this module runs bundled elsewhere (the benchmarks). */
export async function startMoto(serverScript = SERVER_SCRIPT): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawnMoto(serverScript, port);
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderrTail = (stderrTail + chunk.toString()).slice(-2000)));
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(motoMissing(error)));
    child.once('exit', (code) => reject(motoMissing(new Error(`exit code ${code}: ${stderrTail.trim()}`))));
  });
  await Promise.race([waitUntilReady(endpoint), exited]);
  exited.catch(() => undefined);

  const post = async (path: string, body?: unknown) => {
    const response = await fetch(`${endpoint}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`moto ${path} answered ${response.status}: ${await response.text()}`);
  };

  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      AWS_DEFAULT_REGION: TEST_REGION,
    },
    reset: () => post('/moto-api/reset'),
    seedCostAndUsage: (results) => post('/moto-api/static/ce/cost-and-usage-results', { results }),
    async snsMessages() {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      const data = (await response.json()) as { sns?: { Topic?: Record<string, Record<string, unknown>> } };
      return extractSnsMessages(data);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

const SERVER_SCRIPT = fileURLToPath(new URL('./moto_server.py', import.meta.url));

function spawnMoto(serverScript: string, port: number): ChildProcess {
  const python = process.env.MOTO_PYTHON ?? 'python3';
  return spawn(python, [serverScript, '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function motoMissing(error: Error): Error {
  return new Error(
    `moto_server could not be started (${error.message}). These tests need the moto AWS emulator: ` +
      `pip install "moto[server]" (or set MOTO_PYTHON to the Python that has it).`,
  );
}

async function waitUntilReady(endpoint: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server at ${endpoint} was not ready within 20 s`);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function extractSnsMessages(data: unknown) {
  // moto's data.json lists models by service and class; SNS topics keep `sent_notifications` as
  // [message_id, message, subject, message_attributes, group_id] tuples.
  const topics = (data as { sns?: { Topic?: Array<Record<string, unknown>> } }).sns?.Topic ?? [];
  const messages: Array<{ topicArn: string; message: string; attributes: Record<string, string> }> = [];
  for (const topic of topics) {
    const sent = (topic.sent_notifications as unknown[][] | undefined) ?? [];
    for (const entry of sent) {
      const attrs = (entry[3] ?? {}) as Record<string, { Value?: string; StringValue?: string }>;
      messages.push({
        topicArn: String(topic.arn),
        message: String(entry[1]),
        attributes: Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v.Value ?? v.StringValue ?? '')])),
      });
    }
  }
  return messages;
}
