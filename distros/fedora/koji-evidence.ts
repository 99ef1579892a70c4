/**
 * Installed rpms that no cached repository metadata lists: fetched from Koji by their NVRA and source
 * rpm (`packages/<srpm name>/<version>/<release>/<arch>/<file>`, the lockfile path) and pinned only
 * when the file is the installed package by the root's own rpm database:
 *  - `rpmkeys --checksig --nosignature` finds its header and payload digests intact, and
 *  - its SHA256HEADER and PAYLOADDIGEST equal what the rpm database recorded for that package.
 * The header digest covers the payload digest, so the file's header and payload are what was installed
 * (the signature header may differ: Koji's copy can be unsigned where the mirror's was signed).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PingetError } from '../../src/errors.js';
import { run, runChecked } from '../../src/exec.js';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { politeBytes, type PoliteOptions } from '../../src/fetch/archives/polite.js';
import { redactUrl } from '../../src/fetch/http-client.js';
import { encodePath } from '../../src/fetch/template.js';
import type { LockEntry } from '../../src/lockfile.js';
import { sha256Bytes } from '../../src/verify/sha256.js';
import { reportUnpinned, type UnpinnedItem } from '../../src/distro/missing.js';
import type { GenerateOptions } from '../../src/distro/types.js';
import { evrString, kojiPath, type Nevra } from './nevra.js';
import { findRpmDb, MISSING_RPM_HINT, queryRpmDb, type InstalledRpm } from './rpmdb.js';

export const KOJI_NAME = 'fedora-koji';
const PACKAGE_MAX = 2 ** 31 - 1;
const FORMAT = '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SHA256HEADER}\\t%{PAYLOADDIGEST}\\n';

export interface RpmDigests {
  sha256Header: string;
  payloadDigest: string;
}

const key = (p: Nevra) => `${p.name}\0${p.epoch || '0'}\0${p.version}\0${p.release}\0${p.arch}`;

/** Lines of FORMAT -> NEVRA key -> digests ('(none)' kept as is: nothing to compare). */
export function parseDigests(text: string): Map<string, RpmDigests> {
  const out = new Map<string, RpmDigests>();
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length !== 7) continue;
    const [name, epoch, version, release, arch, sha256Header, payloadDigest] = f;
    out.set(key({ name, epoch: epoch === '0' ? '' : epoch, version, release, arch }), { sha256Header, payloadDigest });
  }
  return out;
}

/** Why the file's digests are not the installed package's, or undefined when they are. */
export function digestMismatch(file: RpmDigests | undefined, installed: RpmDigests): string | undefined {
  if (!/^[0-9a-f]{64}$/.test(installed.sha256Header)) return 'the rpm database recorded no SHA256HEADER for it, so nothing can vouch for a downloaded file';
  if (!file) return 'the file is not this package (another name, version or arch)';
  if (file.sha256Header !== installed.sha256Header) return `header digest ${file.sha256Header} is not the installed ${installed.sha256Header}: another build`;
  if (installed.payloadDigest !== '(none)' && file.payloadDigest !== installed.payloadDigest) return `payload digest ${file.payloadDigest} is not the installed ${installed.payloadDigest}`;
  return undefined;
}

async function checkFile(file: string, p: InstalledRpm, installed: RpmDigests): Promise<string | undefined> {
  const sig = await run('rpmkeys', ['--checksig', '--nosignature', file]);
  if (sig.code !== 0 || !/digests OK/.test(sig.stdout)) return `rpmkeys --checksig: ${(sig.stdout + sig.stderr).trim().replace(/^.*?: /, '')}`;
  const q = await runChecked('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', FORMAT, file], 'BAD_INPUT', { missingHint: MISSING_RPM_HINT });
  return digestMismatch(parseDigests(q.stdout).get(key(p)), installed);
}

/**
 * Pins what Koji serves and the rpm database vouches for (unless --offline), reports the rest: an error
 * naming each package and why, or a warning with --allow-missing. `haveMetadata`: whether any repository
 * metadata was cached (else the first hint is dnf makecache).
 */
export async function resolveFedoraMissing(root: string, missing: InstalledRpm[], opts: GenerateOptions, haveMetadata: boolean): Promise<LockEntry[]> {
  if (missing.length === 0) return [];
  const label = (p: InstalledRpm) => `${p.name}-${evrString(p)}.${p.arch}`;
  const makecache = 'run dnf makecache (with --installroot for a mounted root) and try again';
  if (opts.offline || !opts.archive || !haveMetadata) {
    const why = haveMetadata ? 'in no cached repository metadata' : 'no repository metadata is cached';
    reportUnpinned(
      opts,
      missing.map((p) => ({ name: label(p), kind: 'absent', reason: why, ref: { name: p.name, arch: p.arch } })),
      haveMetadata ? 'the repositories no longer list these versions: run without --offline to look them up in Koji, or pass --allow-missing' : makecache,
    );
    return [];
  }
  if (!(await findRpmDb(root))) return [];
  const recorded = parseDigests(await queryRpmDb(root, FORMAT));
  const base = archiveBase('fedora', KOJI_NAME, opts.archive.archiveUrls);
  const http: PoliteOptions = { timeoutMs: opts.archive.timeoutMs, retries: opts.archive.retries };
  opts.log.info(`${missing.length} installed package(s) are in no cached repository metadata; looking them up in Koji ${redactUrl(base)}`);
  const tmp = await mkdtemp(join(tmpdir(), `pinget-koji-${process.pid}-`));
  const pinned: LockEntry[] = [];
  const items: UnpinnedItem[] = [];
  try {
    const limit = pLimit(2);
    await Promise.all(
      missing.map((p, i) =>
        limit(async () => {
          const path = kojiPath(p, p.sourceRpm);
          const installed = recorded.get(key(p));
          if (!path || !installed) {
            items.push({ name: label(p), kind: 'absent', reason: path ? 'not in the rpm database query' : `its SOURCERPM "${p.sourceRpm}" names no Koji build`, ref: { name: p.name, arch: p.arch } });
            return;
          }
          const url = `${base}/packages/${encodePath(path)}`;
          let bytes: Buffer;
          try {
            bytes = await politeBytes(url, PACKAGE_MAX, http);
          } catch (e) {
            const absent = e instanceof PingetError && e.code === 'NOT_FOUND';
            items.push({ name: label(p), kind: absent ? 'absent' : 'unavailable', reason: absent ? 'not in Koji' : (e as Error).message, ref: { name: p.name, arch: p.arch } });
            return;
          }
          const file = join(tmp, `${i}.rpm`);
          await writeFile(file, bytes);
          const wrong = await checkFile(file, p, installed);
          await rm(file, { force: true });
          if (wrong) items.push({ name: label(p), kind: 'tampered', reason: `${redactUrl(url)}: ${wrong}`, ref: { name: p.name, arch: p.arch } });
          else pinned.push({ sha256: sha256Bytes(bytes), path });
        }),
      ),
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (pinned.length) opts.log.info(`Koji: pinned ${pinned.length} of ${missing.length} package(s) whose header digests match the rpm database`);
  items.sort((a, b) => (a.name < b.name ? -1 : 1));
  reportUnpinned(opts, items, 'pass --allow-missing to leave them out, or --archive-url fedora-koji=URL for a Koji that has them');
  return pinned;
}
