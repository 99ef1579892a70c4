/**
 * `lock`: which apt sources a resolution reads. A base root's own sources (its keys read inside it); an empty base
 * takes `--mirror` URIs, else the host's configured mirrors of the same distro with the host's codename replaced by
 * the requested release. `--snapshot` moves every source onto the snapshot archive's dated tree of its archive.
 */
import { PingetError } from '../../src/errors.js';
import { archiveBase } from '../../src/fetch/archives/index.js';
import { DEBIAN_SNAPSHOT_NAME } from '../../src/fetch/archives/debian-snapshot.js';
import { UBUNTU_SNAPSHOT_NAME } from '../../src/fetch/archives/ubuntu-snapshot.js';
import { snapshotTimestamp } from '../../src/fetch/archives/types.js';
import type { EmptyBase } from '../../src/distro/types.js';
import { readOsRelease } from '../../src/distro/os-release.js';
import { readSources, type SourceEntry } from './sources.js';

/** One (URI, suite) an apt source names, with what apt needs of it. */
export interface LockSource {
  uri: string;
  suite: string;
  components: string[];
  signedBy?: string;
  origin: string;
}

const SUITE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function servesArch(e: SourceEntry, arch: string): boolean {
  const listed = (e.options.arch ?? e.options.architectures ?? '').split(/[\s,]+/).filter(Boolean);
  return listed.length === 0 || listed.includes(arch);
}

function expand(entries: SourceEntry[], arch: string): LockSource[] {
  const out: LockSource[] = [];
  for (const e of entries) {
    if (!e.types.includes('deb') || !servesArch(e, arch)) continue;
    for (const uri of e.uris) {
      for (const suite of e.suites) {
        if (!SUITE.test(suite)) {
          throw new PingetError('BAD_INPUT', `${e.origin}: suite "${suite}" is a flat repository or not a plain suite name; lock reads dists/<suite>/ repositories only`);
        }
        out.push({ uri: uri.replace(/\/+$/, ''), suite, components: e.components, signedBy: e.signedBy, origin: e.origin });
      }
    }
  }
  return out;
}

/** The sources of an installed base, in apt's order. */
export async function baseSources(root: string, arch: string, warn: (m: string) => void): Promise<LockSource[]> {
  const sources = expand(await readSources(root, (file, reason) => warn(`ignoring ${file}: ${reason}`)), arch);
  if (sources.length === 0) throw new PingetError('BAD_INPUT', `${root}/etc/apt: no deb source for ${arch}; the base needs an apt source to resolve against`);
  return sources;
}

/** The sources of an empty base: `--mirror` URIs, else the host's own mirrors of that distro, moved to the release. */
export async function emptyBaseSources(empty: EmptyBase, arch: string, warn: (m: string) => void): Promise<LockSource[]> {
  const components = ['main'];
  if (empty.keyrings.length) throw new PingetError('USAGE', `--keyring: an empty ${empty.osId} base checks its indexes with this host's apt keyrings; put the key there (/etc/apt/keyrings) instead`);
  if (empty.mirrors.length) {
    return empty.mirrors.map((uri) => ({ uri: uri.replace(/\/+$/, ''), suite: empty.release, components, origin: `--mirror ${uri}` }));
  }
  const host = await readOsRelease('/');
  const codename = host?.VERSION_CODENAME;
  if ((host?.ID ?? '').toLowerCase() !== empty.osId || !codename) {
    throw new PingetError('USAGE', `this host has no ${empty.osId} mirror configured; name one with --mirror URL`);
  }
  const moved: SourceEntry[] = [];
  for (const e of await readSources('/', (file, reason) => warn(`ignoring ${file}: ${reason}`))) {
    const suites = e.suites.filter((s) => s === codename || s.startsWith(`${codename}-`) || s.startsWith(`${codename}/`));
    if (suites.length) moved.push({ ...e, suites: suites.map((s) => empty.release + s.slice(codename.length)) });
  }
  const out = expand(moved, arch);
  if (out.length === 0) throw new PingetError('USAGE', `this host's apt sources name no ${empty.osId} ${codename} mirror; name one with --mirror URL`);
  return out;
}

/**
 * Each source on the snapshot archive's dated tree of its archive (the mirror path's last segment: debian,
 * debian-security, ubuntu, ubuntu-ports), which the archive answers with the nearest import at or before the moment.
 */
export function onSnapshot(sources: LockSource[], osId: string, moment: Date, archiveUrls: Record<string, string>): LockSource[] {
  const ubuntu = osId === 'ubuntu';
  const base = ubuntu ? archiveBase('ubuntu', UBUNTU_SNAPSHOT_NAME, archiveUrls) : archiveBase('debian', DEBIAN_SNAPSHOT_NAME, archiveUrls);
  const stamp = snapshotTimestamp(moment.toISOString())!;
  return sources.map((s) => {
    const archive = new URL(s.uri).pathname.split('/').filter(Boolean).pop() ?? (ubuntu ? 'ubuntu' : 'debian');
    return { ...s, uri: ubuntu ? `${base}/${archive}/${stamp}` : `${base}/archive/${archive}/${stamp}` };
  });
}
