/**
 * A real IPFS node for tests: js-ipfs (ipfs-core) with its Kubo-compatible RPC server (ipfs-http-server),
 * offline, on 127.0.0.1, with a fresh repo in a temp dir. No kubo binary can be installed here, and js-ipfs
 * needs Node >= 22 today, so it runs on the Node 24 that .ci/setup.d/50-ipfs.sh installs into tmp/ipfs-node/.
 * Stop it with close() (or `await using`); that also removes its repo.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const IPFS_NODE_DIR = join(REPO_ROOT, 'tmp', 'ipfs-node');
const NODE_BIN = join(IPFS_NODE_DIR, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');

// Runs under Node 24 with cwd = tmp/ipfs-node, so its imports resolve there. Prints the API URL once ready.
const SERVER = `
import * as IPFS from 'ipfs-core'
import { HttpApi } from 'ipfs-http-server'
const ipfs = await IPFS.create({
  repo: process.argv[1], offline: true, start: false, silent: true, preload: { enabled: false },
  config: { Addresses: { API: '/ip4/127.0.0.1/tcp/0', Gateway: '', Swarm: [] }, Bootstrap: [], Discovery: { MDNS: { Enabled: false }, webRTCStar: { Enabled: false } } },
})
const api = new HttpApi(ipfs)
await api.start()
process.stdout.write(api._apiServers[0].info.uri + '\\n')
let stopping = false
const stop = async () => { if (stopping) return; stopping = true; await api.stop(); await ipfs.stop(); process.exit(0) }
process.on('SIGTERM', stop)
process.stdin.on('end', stop)
process.stdin.resume()
`;

export interface IpfsNode {
  /** RPC base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** HOST:PORT, as --ipfs-api takes it. */
  api: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function ipfsNodeInstalled(): boolean {
  return existsSync(NODE_BIN) && existsSync(join(IPFS_NODE_DIR, 'node_modules', 'ipfs-http-server'));
}

export async function startIpfsNode(): Promise<IpfsNode> {
  if (!ipfsNodeInstalled()) {
    throw new Error(`js-ipfs is not installed in ${IPFS_NODE_DIR}: run bash .ci/setup.d/50-ipfs.sh (or npm run setup:test)`);
  }
  const repo = await mkdtemp(join(tmpdir(), 'pinget-ipfs-repo-'));
  const child: ChildProcess = spawn(NODE_BIN, ['--input-type=module', '--eval', SERVER, join(repo, 'repo')], {
    cwd: IPFS_NODE_DIR,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin!.end();
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    await rm(repo, { recursive: true, force: true });
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) resolve(out.slice(0, nl).trim());
      });
      child.once('exit', (code) => reject(new Error(`js-ipfs exited (${code}) before serving: ${stderr.trim()}`)));
      child.once('error', reject);
    });
    const api = new URL(url).host;
    return { url, api, close: stop, [Symbol.asyncDispose]: stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
