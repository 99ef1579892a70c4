/**
 * sha256 of each regular file of a package's payload, streamed from the distro's own tool as a plain tar
 * (`dpkg-deb --fsys-tarfile`, `bsdtar -cf - @PKG`), so no package is held in memory. Names are made
 * absolute (`./usr/x` -> `/usr/x`); entries with `..` segments are left out.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../errors.js';
import { sha256File } from './sha256.js';

export async function tarFileHashes(cmd: string, args: string[], what: string, missingHint: string): Promise<Map<string, string>> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const exited = new Promise<number>((res, rej) => {
    child.on('error', (e: NodeJS.ErrnoException) => rej(e.code === 'ENOENT' ? new PingetError('UNAVAILABLE', `${cmd} is not installed (${missingHint})`, { cause: e }) : e));
    child.on('close', (code) => res(code ?? -1));
  });
  const out = new Map<string, string>();
  const extract = tar.extract();
  child.stdout.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = createHash('sha256');
      for await (const c of entry) h.update(c as Buffer);
      const name = `/${entry.header.name.replace(/^(\.\/)+/, '').replace(/^\/+/, '')}`;
      if ((entry.header.type ?? 'file') === 'file' && !name.split('/').includes('..')) out.set(name, h.digest('hex'));
    }
  } catch (e) {
    child.kill();
    await exited.catch(() => undefined);
    throw new PingetError('BAD_INPUT', `${what}: not a readable package payload (${(e as Error).message})`, { cause: e });
  }
  const code = await exited;
  if (code !== 0) throw new PingetError('BAD_INPUT', `${what}: ${cmd} failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`);
  return out;
}

/**
 * The installed files that differ from a pinned package's payload (`hashes`, from tarFileHashes): missing,
 * not a regular file, or other content. `skip` holds the paths the administrator may change (conffiles,
 * pacman backup files).
 */
export async function comparePayload(
  root: string,
  hashes: Map<string, string>,
  skip: Set<string>,
  pkg: { label: string; pinnedPath: string },
): Promise<{ package: string; path: string; reason: string }[]> {
  const drift: { package: string; path: string; reason: string }[] = [];
  for (const [path, want] of hashes) {
    if (skip.has(path)) continue;
    const onDisk = join(root, path);
    const st = await lstat(onDisk).catch(() => undefined);
    let reason: string | undefined;
    if (!st) reason = 'missing';
    else if (!st.isFile()) reason = 'not a regular file, unlike in the pinned package';
    else if ((await sha256File(onDisk)) !== want) reason = `content differs from the pinned package (${pkg.pinnedPath})`;
    if (reason) drift.push({ package: pkg.label, path, reason });
  }
  return drift;
}
