import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { costAndUsagePage, type SampleCostCube } from '../../scripts/demo/sampleCosts.mjs';

/** What one whole process cost, as the kernel counted it (GNU time): CPU and peak resident memory. */
export interface ProcessCost {
  readonly status: number | null;
  readonly cpuMs: number;
  readonly maxRssMiB: number;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <args>` under /usr/bin/time, so the figures cover the whole process, start-up included. */
export async function measureNode(args: readonly string[], env: Record<string, string>, cwd?: string, timeoutMs = 600_000): Promise<ProcessCost> {
  const started = performance.now();
  const child = spawn('/usr/bin/time', ['-f', 'BENCH-RUSAGE %U %S %M', process.execPath, ...args], {
    env: { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timeout = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [status] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timeout);
  const wallMs = performance.now() - started;
  const match = /BENCH-RUSAGE (\S+) (\S+) (\d+)\s*$/.exec(stderr);
  if (!match) throw new Error(`no resource usage from /usr/bin/time (status ${status}): ${stderr.slice(-500)}`);
  return {
    status,
    cpuMs: (Number(match[1]) + Number(match[2])) * 1000,
    maxRssMiB: Number(match[3]) / 1024,
    wallMs,
    stdout,
    stderr: stderr.slice(0, match.index),
  };
}

/** A built action run as the runner runs it (INPUT_* variables, summary and output files), measured. */
export async function measureAction(dist: string, inputs: Record<string, string>, env: Record<string, string>, options: { timeoutMs?: number } = {}) {
  const workdir = mkdtempSync(join(tmpdir(), 'bench-action-'));
  const summaryFile = join(workdir, 'summary.md');
  const outputFile = join(workdir, 'output.txt');
  writeFileSync(summaryFile, '');
  writeFileSync(outputFile, '');
  const inputEnv = Object.fromEntries(Object.entries(inputs).map(([name, value]) => [`INPUT_${name.toUpperCase()}`, value]));
  const cost = await measureNode(
    [dist],
    { HOME: workdir, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_OUTPUT: outputFile, ...inputEnv, ...env },
    workdir,
    options.timeoutMs,
  );
  const outputs: Record<string, string> = {};
  for (const match of readFileSync(outputFile, 'utf8').matchAll(/^(.+?)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[match[1]!] = match[3]!;
  return { ...cost, outputs, summaryBytes: Buffer.byteLength(readFileSync(summaryFile)), workdir };
}

export interface CountingServer {
  readonly endpoint: string;
  /** Requests answered, by operation (X-Amz-Target). */
  readonly requests: Map<string, number>;
  /** Response bytes sent. */
  bytes: number;
  reset(): void;
  stop(): Promise<void>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

/** Serves `answer` and counts each request by operation and the bytes answered. */
async function countingServer(answer: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<CountingServer> {
  const requests = new Map<string, number>();
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const operation =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
    answer(req, body, res);
  });
  return listenCounting(server, requests);
}

/** Starts `server` on a free local port, counting requests by operation into `requests`. */
export async function listenCounting(server: Server, requests: Map<string, number>): Promise<CountingServer> {
  const state: CountingServer = {
    endpoint: await listen(server),
    requests,
    bytes: 0,
    reset() {
      requests.clear();
      state.bytes = 0;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return state;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

/**
 * A local Cost Explorer stand-in: answers GetCostAndUsage over the real AWS JSON protocol for any granularity,
 * grouping and page, computed from the cube, in pages of 5,000 groups as Cost Explorer pages large answers.
 */
export async function startCostExplorerStandIn(cube: SampleCostCube): Promise<CountingServer> {
  const server: CountingServer = await countingServer((req, body, res) => {
    const costAndUsage = String(req.headers['x-amz-target'] ?? '').endsWith('.GetCostAndUsage');
    const answer = costAndUsage ? JSON.stringify(costAndUsagePage(cube, JSON.parse(body))) : '{"__type":"UnknownOperationException"}';
    server.bytes += Buffer.byteLength(answer);
    res.writeHead(costAndUsage ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(answer);
  });
  return server;
}

/** A proxy in front of an emulator that counts the requests by operation. */
export async function startCountingProxy(upstream: string): Promise<CountingServer> {
  const target = new URL(upstream);
  return countingServer((req, body, res) => {
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upstreamResponse) => {
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    forward.end(body);
  });
}

export function total(requests: ReadonlyMap<string, number>): number {
  return [...requests.values()].reduce((sum, n) => sum + n, 0);
}

export function byOperation(requests: ReadonlyMap<string, number>): string {
  return [...requests].map(([operation, n]) => `${n} ${operation}`).join(', ') || 'none';
}
