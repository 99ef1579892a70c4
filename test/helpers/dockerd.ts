/**
 * A private Docker Engine for tests: the dockerd of Debian's docker.io package (.ci/setup.d/30-docker.sh), never
 * a docker on PATH (a client alone may be there) nor the default socket. Its socket, data root, exec root,
 * pidfile and client config live in a temp dir; no iptables, no masquerading, no docker0 bridge (two engines
 * run side by side, and other engineers' containers run on the machine), so build steps that reach a server use
 * the host network. `containerdStore` selects the containerd image store (daemon.json `features`), else the
 * classic one (overlay2). close() stops the daemon (and its containerd), unmounts what is left and removes the dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunResult } from '../../src/exec.js';

export const DOCKERD = '/usr/sbin/dockerd';
export const DOCKER = '/usr/bin/docker';

export interface TestDockerd {
  store: 'containerd' | 'classic';
  /** The client's environment: DOCKER_HOST on the private socket, a private DOCKER_CONFIG. */
  env: NodeJS.ProcessEnv;
  docker(args: string[], opts?: { cwd?: string }): Promise<RunResult>;
  log(): Promise<string>;
  close(): Promise<void>;
}

/** Why Docker cannot run here, or undefined when dockerd and `docker buildx` are installed. */
export async function dockerMissing(): Promise<string | undefined> {
  const d = await run(DOCKERD, ['--version']).catch(() => undefined);
  if (d?.code !== 0) return `${DOCKERD} is not installed (.ci/setup.d/30-docker.sh installs Docker 26 from Debian trixie)`;
  const b = await run(DOCKER, ['buildx', 'version']).catch(() => undefined);
  if (b?.code !== 0) return `${DOCKER} buildx does not run (.ci/setup.d/30-docker.sh installs docker-cli and docker-buildx)`;
  return undefined;
}

export async function startDockerd(store: 'containerd' | 'classic'): Promise<TestDockerd> {
  // A short path: the unix socket's must fit in 108 bytes.
  const dir = await mkdtemp(join(tmpdir(), 'pinget-dockerd-'));
  const sock = join(dir, 'docker.sock');
  const config = join(dir, 'daemon.json');
  await writeFile(config, JSON.stringify({ features: { 'containerd-snapshotter': store === 'containerd' } }));
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'client') };
  // the printed command must hold without the caller's settings
  delete env.BUILDX_NO_DEFAULT_ATTESTATIONS;
  delete env.BUILDX_BUILDER;
  const logFile = join(dir, 'dockerd.log');
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    DOCKERD,
    [
      '--config-file', config,
      '--data-root', join(dir, 'data'),
      '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'dockerd.pid'),
      '--host', `unix://${sock}`,
      '--iptables=false', '--ip-masq=false', '--bridge=none',
      '--exec-opt', 'native.cgroupdriver=cgroupfs',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => undefined);
  const docker = (args: string[], opts: { cwd?: string } = {}) => run(DOCKER, args, { env, cwd: opts.cwd });
  const log = () => readFile(logFile, 'utf8').catch(() => '');
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    // dockerd unmounts its layers when it stops; whatever a crash left mounted under dir goes first.
    const mounts = (await readFile('/proc/self/mounts', 'utf8')).split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${dir}/`));
    for (const m of mounts.sort().reverse()) await run('umount', ['-l', m]);
    await rm(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    const info = await docker(['info', '--format', '{{.Driver}}']).catch(() => undefined);
    const driver = info?.code === 0 ? info.stdout.trim() : '';
    // under load the API can answer before the image store is up (no driver named yet)
    if (driver) {
      // the containerd store reports its snapshotter (overlayfs), the classic one its graph driver (overlay2)
      if ((store === 'containerd') !== (driver === 'overlayfs')) {
        await close();
        throw new Error(`dockerd started with the ${store} store reports storage driver ${driver}`);
      }
      return { store, env, docker, log, close };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const tail = (await log()).trim().split('\n').slice(-5).join('\n');
  await close();
  throw new Error(`dockerd did not answer on ${sock}:\n${tail}`);
}
