/** Small request hooks for the archive stand-ins (serveDirectory's Hook): answer one path otherwise. */
import type { Hook } from './http-server.js';

/** Serves `body` for exactly `path` instead of the file. */
export function replyWith(path: string, body: Buffer): Hook {
  return (_req, res, rel) => {
    if (rel !== path) return false;
    res.writeHead(200, { 'content-length': body.length }).end(body);
    return true;
  };
}

/** Answers `status` for every path under `prefix` ('' for all). */
export function statusFor(prefix: string, status: number): Hook {
  return (_req, res, rel) => {
    if (!rel.startsWith(prefix)) return false;
    res.writeHead(status).end();
    return true;
  };
}
