/**
 * A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1, a free
 * port, filesystem storage in a temp dir. Started per test file, stopped and removed by close().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  /** `127.0.0.1:PORT`, as oras takes it. */
  host: string;
  port: number;
  /** The filesystem storage root (for tampering with blobs). */
  storage: string;
  /** The registry's output so far: its access log (one line per request) and warnings. */
  log(): string;
  /** Where the registry keeps the bytes of a blob. */
  blobDataPath(sha256: string): string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export const REGISTRY_BIN = process.env.PINGET_TEST_REGISTRY ?? 'docker-registry';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function answers(url: string, okStatuses: number[]): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return okStatuses.includes(res.status);
  } catch {
    return false;
  }
}

/**
 * Starts a registry. With `htpasswd` (the file's text: user:bcrypt lines) it requires basic auth,
 * and /v2/ answers 401 until credentials are given.
 */
export async function startRegistry(opts: { htpasswd?: string } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'pinget-registry-'));
  const storage = join(dir, 'storage');
  let child: ChildProcess | undefined;
  let output = '';
  const stopChild = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await exited;
    }
  };
  const close = async () => {
    await stopChild();
    await rm(dir, { recursive: true, force: true });
  };
  // A port picked free can be taken before the registry binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const auth = opts.htpasswd
      ? `auth:\n  htpasswd:\n    realm: pinget-test\n    path: ${join(dir, 'htpasswd')}\n`
      : '';
    if (opts.htpasswd) await writeFile(join(dir, 'htpasswd'), opts.htpasswd);
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: 127.0.0.1:${port}\n${auth}`,
    );
    output = '';
    child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (d: string) => {
      if (output.length < (1 << 20)) output += d;
    };
    child.stdout!.setEncoding('utf8').on('data', collect);
    child.stderr!.setEncoding('utf8').on('data', collect);
    const spawnError = new Promise<Error>((resolve) => child!.once('error', resolve));
    let exited = false;
    child.once('exit', () => (exited = true));
    for (let i = 0; i < 200 && !exited; i++) {
      const ready = await Promise.race([answers(`http://127.0.0.1:${port}/v2/`, opts.htpasswd ? [401] : [200]), spawnError.then((e) => e)]);
      if (ready instanceof Error) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`cannot start ${REGISTRY_BIN}: ${ready.message} (install Debian's docker-registry package)`);
      }
      if (ready) {
        return {
          host: `127.0.0.1:${port}`,
          port,
          storage,
          log: () => output,
          blobDataPath: (sha256) => join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', sha256.slice(0, 2), sha256, 'data'),
          close,
          [Symbol.asyncDispose]: close,
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    await stopChild();
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not answer on /v2/: ${output.trim().split('\n').slice(-3).join('; ')}`);
}
