import { createServer, request as httpRequest, type Server } from 'node:http';

/**
 * An HTTP proxy in front of an AWS emulator that answers chosen requests with a 500, as a service outage would.
 * `failWhen` sees the request's X-Amz-Target (or the query Action) and body; faults stay armed until disarmed.
 */
export interface FaultProxy {
  readonly endpoint: string;
  failWhen(rule: (call: { target: string; body: string }) => boolean): void;
  disarm(): void;
  /** How many requests were failed on purpose since the last `failWhen`. */
  readonly failures: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  let rule: ((call: { target: string; body: string }) => boolean) | undefined;
  let failures = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const operation = String(req.headers['x-amz-target'] ?? /(?:^|&)Action=([^&]+)/.exec(text)?.[1] ?? '');
      if (rule?.({ target: operation, body: text })) {
        failures++;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected outage' }));
        return;
      }
      const forward = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (upstreamResponse) => {
          res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
          upstreamResponse.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('fault proxy did not report a port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    failWhen(next) {
      rule = next;
      failures = 0;
    },
    disarm() {
      rule = undefined;
    },
    get failures() {
      return failures;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
