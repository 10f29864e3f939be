import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ScriptedResponse {
  readonly status: number;
  readonly body: unknown;
}

/**
 * An HTTP server on 127.0.0.1 that answers requests in order from a script (the last answer repeats), for
 * driving real SDK clients into error paths that emulators cannot produce.
 */
export async function startScriptedServer(script: readonly ScriptedResponse[]) {
  const requests: Array<{ target: string; body: string }> = [];
  const server: Server = createServer(async (request: IncomingMessage, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    requests.push({ target: String(request.headers['x-amz-target'] ?? ''), body });
    const answer = script[Math.min(requests.length - 1, script.length - 1)]!;
    const type = (answer.body as { __type?: string } | null)?.__type;
    response.writeHead(answer.status, {
      'content-type': 'application/x-amz-json-1.1',
      ...(type ? { 'x-amzn-errortype': type } : {}),
    });
    response.end(JSON.stringify(answer.body));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
