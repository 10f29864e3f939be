import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeRun {
  readonly id: number;
  readonly event: string;
  readonly branch: string;
  readonly workflow: string;
}

export interface FakeArtifact {
  readonly id: number;
  readonly runId: number;
  readonly name: string;
  readonly expired: boolean;
  readonly zip: Buffer;
}

export interface FakeComment {
  readonly id: number;
  body: string;
  readonly user: { login: string; type: string };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly authorization: string | undefined;
  readonly body: string;
}

/** The slice of a repository the billing preview reads and writes. */
export interface FakeRepository {
  readonly owner: string;
  readonly repo: string;
  runs: FakeRun[];
  artifacts: FakeArtifact[];
  /** Files at commits: `${sha}:${path}` -> text. */
  files: Map<string, string>;
  comments: Map<number, FakeComment[]>;
  /** Tokens that may only read (a fork's pull request): their writes get 403, as GitHub answers them. */
  readOnlyTokens: Set<string>;
}

/**
 * An HTTP server on 127.0.0.1 that plays the GitHub REST API for one repository: workflow runs and their artifacts
 * (the zip download answers with a redirect to a blob URL, as GitHub does), file contents at a commit, and issue
 * comments (listed in pages with Link headers, created and updated). Every request is recorded.
 */
export async function startGitHubServer(repository: FakeRepository) {
  const requests: RecordedRequest[] = [];
  let nextCommentId = 9000;
  let baseUrl = '';
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void (async () => {
      let body = '';
      for await (const chunk of request) body += chunk;
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const recorded = { method: request.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: request.headers.authorization, body };
      requests.push(recorded);
      route(recorded, response);
    })();
  });

  const json = (response: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    response.end(JSON.stringify(value));
  };

  function route(request: RecordedRequest, response: ServerResponse): void {
    const prefix = `/repos/${repository.owner}/${repository.repo}`;
    const path = request.path.startsWith(prefix) ? request.path.slice(prefix.length) : request.path;
    const token = request.authorization?.replace(/^(token|Bearer) /, '') ?? '';
    let match: RegExpExecArray | null;
    if (request.method === 'GET' && (match = /^\/actions\/workflows\/([^/]+)\/runs$/.exec(path))) {
      const wanted = (run: FakeRun) =>
        run.workflow === match![1] &&
        (!request.query.get('branch') || run.branch === request.query.get('branch')) &&
        (!request.query.get('event') || run.event === request.query.get('event'));
      const runs = repository.runs
        .filter(wanted)
        .sort((a, b) => b.id - a.id)
        .map((run) => ({
          id: run.id,
          event: run.event,
          head_branch: run.branch,
          status: 'completed',
          html_url: `https://github.com/${repository.owner}/${repository.repo}/actions/runs/${run.id}`,
        }));
      return json(response, 200, { total_count: runs.length, workflow_runs: runs });
    }
    if (request.method === 'GET' && (match = /^\/actions\/runs\/(\d+)\/artifacts$/.exec(path))) {
      const artifacts = repository.artifacts
        .filter((artifact) => artifact.runId === Number(match![1]) && (!request.query.get('name') || artifact.name === request.query.get('name')))
        .map((artifact) => ({ id: artifact.id, name: artifact.name, expired: artifact.expired, size_in_bytes: artifact.zip.length }));
      return json(response, 200, { total_count: artifacts.length, artifacts });
    }
    if (request.method === 'GET' && (match = /^\/actions\/artifacts\/(\d+)\/zip$/.exec(path))) {
      if (!repository.artifacts.some((artifact) => artifact.id === Number(match![1]))) return json(response, 404, { message: 'Not Found' });
      response.writeHead(302, { location: `/blobs/artifact-${match[1]}.zip` });
      return void response.end();
    }
    if (request.method === 'GET' && (match = /^\/blobs\/artifact-(\d+)\.zip$/.exec(path))) {
      const artifact = repository.artifacts.find((candidate) => candidate.id === Number(match![1]))!;
      response.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(artifact.zip.length) });
      return void response.end(artifact.zip);
    }
    if (request.method === 'GET' && (match = /^\/contents\/(.+)$/.exec(path))) {
      const text = repository.files.get(`${request.query.get('ref')}:${decodeURIComponent(match[1]!)}`);
      if (text === undefined) return json(response, 404, { message: 'Not Found' });
      return json(response, 200, { type: 'file', encoding: 'base64', path: match[1], content: Buffer.from(text).toString('base64') });
    }
    if ((match = /^\/issues\/(\d+)\/comments$/.exec(path))) {
      const number = Number(match[1]);
      const comments = repository.comments.get(number) ?? [];
      if (request.method === 'GET') {
        const perPage = Number(request.query.get('per_page') ?? 30);
        const page = Number(request.query.get('page') ?? 1);
        const last = Math.max(1, Math.ceil(comments.length / perPage));
        const link = page < last ? { link: `<${baseUrl}${request.path}?per_page=${perPage}&page=${page + 1}>; rel="next"` } : {};
        return json(response, 200, comments.slice((page - 1) * perPage, page * perPage), link);
      }
      if (request.method === 'POST') {
        if (repository.readOnlyTokens.has(token)) return json(response, 403, { message: 'Resource not accessible by integration' });
        const comment = {
          id: (nextCommentId += 1),
          body: (JSON.parse(request.body) as { body: string }).body,
          user: { login: 'github-actions[bot]', type: 'Bot' },
        };
        repository.comments.set(number, [...comments, comment]);
        return json(response, 201, comment);
      }
    }
    if (request.method === 'PATCH' && (match = /^\/issues\/comments\/(\d+)$/.exec(path))) {
      if (repository.readOnlyTokens.has(token)) return json(response, 403, { message: 'Resource not accessible by integration' });
      const comment = [...repository.comments.values()].flat().find((candidate) => candidate.id === Number(match![1]));
      if (!comment) return json(response, 404, { message: 'Not Found' });
      comment.body = (JSON.parse(request.body) as { body: string }).body;
      return json(response, 200, comment);
    }
    json(response, 404, { message: `no route for ${request.method} ${request.path}` });
  }

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: baseUrl,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
