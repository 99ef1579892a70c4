/**
 * A real HTTP server on 127.0.0.1 serving a directory, with an optional hook to inject faults.
 * Every test that starts one stops it (use `await using` or call close()).
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, normalize } from 'node:path';
import type { AddressInfo } from 'node:net';

/** Return true when the hook answered the request itself. */
export type Hook = (req: IncomingMessage, res: ServerResponse, relPath: string) => boolean | Promise<boolean>;

export interface TestServer {
  url: string;
  port: number;
  /** Paths requested, in order (without the leading slash). */
  requests: string[];
  setHook(hook: Hook | undefined): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export async function serveDirectory(dir: string, hook?: Hook): Promise<TestServer> {
  let current = hook;
  const requests: string[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer(async (req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    requests.push(rel);
    try {
      if (current && (await current(req, res, rel))) return;
      const file = normalize(join(dir, rel));
      if (!file.startsWith(normalize(dir))) {
        res.writeHead(403).end();
        return;
      }
      const st = await stat(file).catch(() => undefined);
      if (!st || !st.isFile()) {
        res.writeHead(404).end('not found');
        return;
      }
      res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' });
      if (req.method === 'HEAD') {
        res.end();
        return;
      }
      createReadStream(file).pipe(res);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setHook: (h) => {
      current = h;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** What a lying server serves for a path: other bytes, a hang (no answer), or undefined for the real file. */
export type Lie = (relPath: string) => Buffer | 'hang' | undefined;

/** A hook that answers with `lie`'s bytes (or never answers) where it has some, else serves the directory. */
export function lyingHook(lie: Lie): Hook {
  return (_req, res, rel) => {
    const body = lie(rel);
    if (body === undefined) return false;
    if (body !== 'hang') res.writeHead(200).end(body);
    return true;
  };
}
