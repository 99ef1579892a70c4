/**
 * A minbase root of the machine's own release by mmdebstrap, from the machine's apt sources (never a host name
 * written here), as a tarball cached under the gitignored tmp/ keyed by the sources, the day and mmdebstrap's
 * version; its apt lists are kept.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../../src/exec.js';
import { REPO_ROOT } from './cli.js';

/** The machine's apt sources files: the mirrors mmdebstrap uses. */
export async function aptSources(): Promise<string[]> {
  const files: string[] = [];
  if (await stat('/etc/apt/sources.list').catch(() => undefined)) files.push('/etc/apt/sources.list');
  const d = '/etc/apt/sources.list.d';
  for (const n of (await readdir(d).catch(() => [] as string[])).sort()) if (/\.(list|sources)$/.test(n)) files.push(join(d, n));
  return files;
}

/** The machine's release codename (VERSION_CODENAME). */
export async function hostCodename(): Promise<string> {
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(await readFile('/etc/os-release', 'utf8'))?.[1]?.replace(/"/g, '');
  if (!codename) throw new Error('this machine names no release codename in /etc/os-release');
  return codename;
}

async function must(cmd: string, args: string[]): Promise<void> {
  const res = await run(cmd, args);
  if (res.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${res.code}\n${res.stderr.slice(-4000)}`);
}

/** A minbase tarball of `codename` with its apt lists kept, cached in tmp/image-build. */
export async function minbaseTarball(codename: string): Promise<string> {
  const sources = await aptSources();
  if (sources.length === 0) throw new Error('no apt sources on this machine');
  const version = (await run('mmdebstrap', ['--version'])).stdout.trim();
  const h = createHash('sha256').update(`${codename}\n${version}\n${new Date().toISOString().slice(0, 10)}\n`);
  for (const f of sources) h.update(`${f}\n${await readFile(f, 'utf8')}\n`);
  const dir = join(REPO_ROOT, 'tmp', 'image-build');
  const file = join(dir, `minbase-${codename}-${h.digest('hex').slice(0, 16)}.tar`);
  if (await stat(file).catch(() => undefined)) return file;
  await mkdir(dir, { recursive: true });
  for (const old of await readdir(dir)) if (old.startsWith(`minbase-${codename}-`) && !old.includes('.part-')) await rm(join(dir, old), { force: true });
  const part = `${file}.part-${process.pid}`;
  try {
    await must('mmdebstrap', ['--variant=minbase', '--mode=root', '--format=tar', '--skip=cleanup/apt/lists', codename, part, ...sources]);
    await rename(part, file);
  } finally {
    await rm(part, { force: true });
  }
  return file;
}
