/**
 * A hostile HTTP/1.1 server on 127.0.0.1, written on raw TCP so it can break the protocol's promises:
 * bodies that never end, lengths that lie, one byte a second, silence, resets. It serves `files`
 * (by path, without the leading slash) in the chosen mode; every test stops what it starts.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type HostileMode =
  /** Serves each file correctly, honouring Range. */
  | 'good'
  /** The whole response written at once, then socket.end(): the connection closes under backpressure. */
  | 'close-under-backpressure'
  /** 200 with no length, bytes forever (the body ends only when the connection does). */
  | 'endless'
  /** Content-Length: 10^13, then bytes forever. */
  | 'huge-length'
  /** Transfer-Encoding: chunked, chunks forever. */
  | 'endless-chunked'
  /** The right Content-Length and file, then bytes forever after it. */
  | 'longer-than-length'
  /** The headers, then one byte of the file a second. */
  | 'slowloris'
  /** The headers, then nothing. */
  | 'hang-after-headers'
  /** Reads the request, answers nothing. */
  | 'hang-before-headers'
  /** 503 with Retry-After: 100000. */
  | 'retry-after'
  /** The first request of each file is reset (RST) after 64 KiB of the body; later ones are served, with Range. */
  | 'reset-then-good'
  /** The same, but the server does not do ranges: later requests get the whole file again. */
  | 'reset-then-good-no-range';

export interface HostileRequest {
  method: string;
  path: string;
  range?: string;
}

export interface HostileServer {
  url: string;
  /** Requests received, in order. */
  requests: HostileRequest[];
  /** Bytes written in response bodies (what left the server). */
  bodyBytes(): number;
  setMode(mode: HostileMode): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const FILLER = Buffer.alloc(64 * 1024, 0x5a);

/** Writes chunks from next() with backpressure until it returns undefined or the socket closes. */
function pump(socket: Socket, next: () => Buffer | undefined, onEnd?: () => void): void {
  const go = () => {
    while (!socket.destroyed) {
      const c = next();
      if (!c) return onEnd?.();
      if (!socket.write(c)) return void socket.once('drain', go);
    }
  };
  go();
}

export async function startHostileServer(files: Record<string, Buffer>, initial: HostileMode = 'good'): Promise<HostileServer> {
  let mode = initial;
  const requests: HostileRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const seen = new Set<string>();
  let written = 0;

  const head = (socket: Socket, status: string, headers: Record<string, string | number>) => {
    const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
    socket.write(`HTTP/1.1 ${status}\r\n${lines.join('')}\r\n`);
  };
  const body = (socket: Socket, data: Buffer) => {
    written += data.length;
    return socket.write(data);
  };

  const serveGood = (socket: Socket, data: Buffer, range: string | undefined, ranges: boolean) => {
    const m = ranges && range ? /^bytes=(\d+)-$/.exec(range) : null;
    if (m && Number(m[1]) < data.length) {
      const from = Number(m[1]);
      head(socket, '206 Partial Content', {
        'content-length': data.length - from,
        'content-range': `bytes ${from}-${data.length - 1}/${data.length}`,
        'accept-ranges': 'bytes',
        etag: '"v1"',
      });
      body(socket, data.subarray(from));
      return;
    }
    head(socket, '200 OK', { 'content-length': data.length, ...(ranges ? { 'accept-ranges': 'bytes', etag: '"v1"' } : {}) });
    body(socket, data);
  };

  const respond = (socket: Socket, req: HostileRequest): void => {
    const data = files[req.path];
    if (!data) {
      head(socket, '404 Not Found', { 'content-length': 0 });
      return;
    }
    const forever = () => {
      written += FILLER.length;
      return FILLER;
    };
    switch (mode) {
      case 'good':
        return serveGood(socket, data, req.range, true);
      case 'close-under-backpressure':
        head(socket, '200 OK', { 'content-length': data.length, connection: 'close' });
        body(socket, data);
        socket.end();
        return;
      case 'endless':
        head(socket, '200 OK', { connection: 'close' });
        return pump(socket, forever);
      case 'huge-length':
        head(socket, '200 OK', { 'content-length': '10000000000000' });
        return pump(socket, forever);
      case 'endless-chunked': {
        head(socket, '200 OK', { 'transfer-encoding': 'chunked' });
        const chunk = Buffer.concat([Buffer.from(`${FILLER.length.toString(16)}\r\n`), FILLER, Buffer.from('\r\n')]);
        return pump(socket, () => ((written += FILLER.length), chunk));
      }
      case 'longer-than-length':
        head(socket, '200 OK', { 'content-length': data.length });
        body(socket, data);
        return pump(socket, forever);
      case 'slowloris': {
        head(socket, '200 OK', { 'content-length': data.length });
        let i = 0;
        const t = setInterval(() => {
          if (socket.destroyed || i >= data.length) return clearInterval(t);
          body(socket, data.subarray(i, ++i));
        }, 1000);
        timers.add(t);
        return;
      }
      case 'hang-after-headers':
        head(socket, '200 OK', { 'content-length': data.length });
        return;
      case 'hang-before-headers':
        return;
      case 'retry-after':
        head(socket, '503 Service Unavailable', { 'retry-after': 100000, 'content-length': 0 });
        return;
      case 'reset-then-good':
      case 'reset-then-good-no-range': {
        const ranges = mode === 'reset-then-good';
        if (seen.has(req.path)) return serveGood(socket, data, req.range, ranges);
        seen.add(req.path);
        head(socket, '200 OK', { 'content-length': data.length, ...(ranges ? { 'accept-ranges': 'bytes', etag: '"v1"' } : {}) });
        // A part the client surely has read before the RST (an RST drops what the kernel still holds).
        const part = Math.min(64 * 1024, data.length >> 1);
        written += part;
        socket.write(data.subarray(0, part), () => {
          const t = setTimeout(() => socket.resetAndDestroy(), 300);
          timers.add(t);
        });
        return;
      }
    }
  };

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const [line, ...rest] = buf.slice(0, end).split('\r\n');
        buf = buf.slice(end + 4);
        const [method, target] = line.split(' ');
        const range = rest.find((h) => /^range:/i.test(h))?.replace(/^range:\s*/i, '');
        const req = { method, path: decodeURIComponent(new URL(target, 'http://x').pathname).replace(/^\/+/, ''), range };
        requests.push(req);
        respond(socket, req);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = async () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    bodyBytes: () => written,
    setMode: (m) => {
      mode = m;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/**
 * A port that never completes a TCP handshake: python3 listens with a backlog of 0 and never accepts, and
 * filler connections take the only queue slot, so the kernel drops every further SYN (a firewalled host).
 */
export async function startBlackhole(): Promise<{ url: string; close(): Promise<void> }> {
  const script = 'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(3600)';
  const py = spawn('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    py.once('error', reject);
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const fillers = Array.from({ length: 3 }, () => connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((r) => setTimeout(r, 200));
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const f of fillers) f.destroy();
      py.kill('SIGKILL');
    },
  };
}
