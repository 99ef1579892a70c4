/**
 * `lock` figures for Arch and Fedora, warm (pinget's cache filled by a first run), each against the package
 * manager's own simulate of the same request over the same metadata (bench/lock-repos.ts: a generated, signed
 * repository of LOCK_COUNT packages, served by python's http.server on 127.0.0.1):
 *   Arch:   `pacman -S --print --needed` with a scratch --dbpath whose sync/ holds the same database;
 *   Fedora: `dnf install --assumeno` into a copy of the base (--installroot), the repository read from its
 *           directory (--repofrompath), dnf's own cache kept between rounds as dnf keeps it.
 */
import { spawnSync } from 'node:child_process';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isolatedDnfOptions } from '../distros/fedora/dnf-isolated.js';
import { pythonServer } from './fixtures.js';
import { comparePair, timeProcess, type Cmd, type Figure } from './measure.js';
import { archBench, fedoraBench, LOCK_COUNT, pointArchBase, pointFedoraBase } from './lock-repos.js';

export interface Ctx {
  work: string;
  rounds: number;
  pinget: (args: string[], extra?: Partial<Cmd>) => Cmd;
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export async function lockArchFigure(o: Ctx): Promise<Figure> {
  const what = `lock of 4 names (Arch, ${LOCK_COUNT}-package signed sync db on 127.0.0.1), cache warm, vs pacman -S --print --needed over the same db`;
  if (!has('pacman') || !has('gpg')) return { what, maxRatio: 1.5, skipped: 'no pacman or gpg' };
  const b = await archBench();
  await writeFile(join(b.www, 'manifest.json'), '{}');
  const server = await pythonServer(b.www);
  try {
    await pointArchBase(b, server.url);
    const cache = join(o.work, 'lock-arch-cache');
    const lock = o.pinget(['lock', ...b.names, '--root', b.base, '--cache', cache, '-o', join(o.work, 'lock-arch-out')]);
    await timeProcess(lock);
    const ref = join(o.work, 'pacman-ref');
    for (const d of ['db/sync', 'db/local', 'root', 'cache', 'gnupg']) await mkdir(join(ref, d), { recursive: true });
    await cp(join(b.www, b.repo, 'os/x86_64', `${b.repo}.db`), join(ref, 'db/sync', `${b.repo}.db`));
    await writeFile(join(ref, 'pacman.conf'), `[options]\nArchitecture = x86_64\nSigLevel = Never\n\n[${b.repo}]\nServer = ${server.url}/$repo/os/$arch\n`);
    const pacmanArgv = ['pacman', '-S', '--print', '--print-format', '%r %n %v', '--needed', '--config', join(ref, 'pacman.conf'), '--dbpath', join(ref, 'db'), '--root', join(ref, 'root'),
        '--cachedir', join(ref, 'cache'), '--gpgdir', join(ref, 'gnupg'), '--logfile', join(ref, 'pacman.log'), '--noconfirm', '--', ...b.names];
    const pacman: Cmd = { argv: pacmanArgv, env: { ...process.env, LC_ALL: 'C' } };
    const once = spawnSync('pacman', pacmanArgv.slice(1), { encoding: 'utf8', env: pacman.env });
    if (once.status !== 0) throw new Error(`pacman did not resolve the request: ${once.stderr.trim().split('\n').pop()}`);
    const count = once.stdout.split('\n').filter(Boolean).length;
    const pair = await comparePair(lock, pacman, o.rounds);
    return { what: `${what} (${count} packages chosen)`, pair, maxRatio: 1.5, maxRssMiB: 300 };
  } finally {
    await server.close();
  }
}

/** The base's figure, then an empty system's (`--distro fedora:40 --mirror --keyring`: the base has no packages, so both ask dnf the same). */
export async function lockFedoraFigure(o: Ctx): Promise<Figure | Figure[]> {
  const what = `lock of 4 names (Fedora, ${LOCK_COUNT}-package signed rpm-md repo on 127.0.0.1), cache warm, vs dnf install --assumeno --installroot over the same repodata`;
  if (!has('dnf') || !has('rpm') || !has('gpg')) return { what, maxRatio: 1.5, skipped: 'no dnf, rpm or gpg' };
  const home = join(o.work, 'rpm-home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, '.rpmmacros'), '%_dbpath /var/lib/rpm\n');
  const rpmEnv = { ...process.env, HOME: home, LC_ALL: 'C' };
  const b = await fedoraBench(rpmEnv);
  await writeFile(join(b.repoDir, 'manifest.json'), '{}');
  const server = await pythonServer(b.repoDir);
  try {
    await pointFedoraBase(b, server.url);
    const cache = join(o.work, 'lock-fedora-cache');
    const lock = o.pinget(['lock', ...b.names, '--root', b.base, '--cache', cache, '-o', join(o.work, 'lock-fedora-out')]);
    await timeProcess(lock);
    const keyring = join(b.base, 'etc/pki/rpm-gpg/RPM-GPG-KEY-bench');
    const empty = o.pinget(['lock', ...b.names, '--distro', 'fedora:40', '--mirror', server.url, '--keyring', keyring, '--arch', 'x86_64', '--cache', cache, '-o', join(o.work, 'lock-fedora-empty-out')]);
    await timeProcess(empty);
    const root = join(o.work, 'dnf-ref-root');
    await cp(b.base, root, { recursive: true });
    await rm(join(root, 'etc/yum.repos.d'), { recursive: true, force: true });
    const opts = await isolatedDnfOptions(join(o.work, 'dnf-ref'), join(o.work, 'dnf-ref', 'repos'));
    const dnfArgv = ['dnf', `--installroot=${root}`, '--releasever=40', '--forcearch=x86_64', ...opts, `--repofrompath=bench,file://${b.repoDir}`,
        '--setopt=bench.gpgcheck=0', '--assumeno', 'install', ...b.names];
    const dnf: Cmd = {
      argv: dnfArgv,
      env: rpmEnv,
      // --assumeno: dnf resolves, prints the transaction, declines it, and exits 1.
      okCodes: [1],
    };
    const once = spawnSync('dnf', dnfArgv.slice(1), { env: rpmEnv, encoding: 'utf8' });
    if (!/Operation aborted/.test(once.stdout + once.stderr)) throw new Error(`dnf did not resolve the request: ${once.stderr.trim().split('\n').pop()}`);
    const count = /Install\s+(\d+) Package/.exec(once.stdout)?.[1];
    const pair = await comparePair(lock, dnf, o.rounds);
    const emptyPair = await comparePair(empty, dnf, o.rounds);
    return [
      { what: `${what} (${count} packages chosen)`, pair, maxRatio: 1.5, maxRssMiB: 300 },
      { what: `${what.replace('lock of 4 names', 'lock of 4 names from an empty system (--distro fedora:40 --mirror --keyring)')} (${count} packages chosen)`, pair: emptyPair, maxRatio: 1.5, maxRssMiB: 300 },
    ];
  } finally {
    await server.close();
  }
}
