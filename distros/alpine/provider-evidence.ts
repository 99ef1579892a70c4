/**
 * Alpine keeps no archive of superseded packages, so an installed version no repository index has can only
 * come from a provider the user names (`--provider` / `--provider-append`): a file:// tree such as a
 * `pinget download` or `cache export` directory, or an http mirror of old packages. Each repository of the
 * root gives a candidate lockfile path (`<branch>/<repo>/<arch>/<name>-<version>.apk`); a candidate is
 * pinned only when its control segment's `C:` identity (Q1 + SHA-1 of that segment) is the one the
 * installed database recorded: then the sha256 is that file's. Templates that need the sha256 or a CID
 * (oci://, ipfs://) cannot be asked for a file whose hash is not known yet, and are skipped.
 */
import { createProvider } from '../../src/fetch/providers.js';
import { readBodyCapped } from '../../src/fetch/http-client.js';
import { templatePlaceholders } from '../../src/fetch/template.js';
import type { Provider } from '../../src/fetch/types.js';
import { PingetError } from '../../src/errors.js';
import type { LockEntry } from '../../src/lockfile.js';
import { reportUnpinned, type UnpinnedItem } from '../../src/distro/missing.js';
import type { GenerateOptions } from '../../src/distro/types.js';
import { parseApk, sha256Hex } from './apk-file.js';
import type { ApkRecord } from './apk-db.js';
import { apkPath } from './paths.js';
import type { ApkRepository } from './repositories.js';

const PACKAGE_MAX = 2 ** 31 - 1;

/** Templates that can be asked by path alone; with --offline only local ones. */
export function pathTemplates(templates: string[], offline: boolean): string[] {
  return templates.filter((t) => {
    if (/^(oci|ipfs)[+:]/.test(t)) return false;
    const placeholders = templatePlaceholders(t);
    if (placeholders.includes('.SHA256') || placeholders.includes('.CID')) return false;
    return !offline || t.startsWith('file:');
  });
}

export interface ProviderPin {
  entry: LockEntry;
  identity: string;
}

/**
 * Pins the records some provider has with the installed identity; reports the rest (an error naming each
 * and why, or a warning with --allow-missing).
 */
export async function resolveAlpineMissing(records: ApkRecord[], repos: ApkRepository[], arch: string, opts: GenerateOptions): Promise<ProviderPin[]> {
  if (records.length === 0) return [];
  const templates = pathTemplates(opts.candidateProviders ?? [], opts.offline ?? false);
  const pinned: ProviderPin[] = [];
  const items: UnpinnedItem[] = [];
  const ctx = opts.archive ?? { log: opts.log, timeoutMs: 60_000, retries: 2 };
  const providers: Provider[] = templates.map((t) => createProvider(t, ctx));
  if (providers.length) opts.log.info(`${records.length} installed package(s) are in no repository index; asking ${templates.join(', ')}`);
  const signal = new AbortController().signal;
  try {
    for (const record of records) {
      const notes: string[] = [];
      let found: ProviderPin | undefined;
      for (const repo of repos) {
        const path = apkPath(repo.branch, repo.repo, arch, record.name, record.version);
        for (const p of providers) {
          let bytes: Buffer;
          try {
            const body = await p.open({ path, sha256: '', headers: {} }, signal);
            bytes = await readBodyCapped(body.stream, PACKAGE_MAX, () => new PingetError('BAD_INPUT', `${p.label}: ${path}: too large for a package`));
          } catch (e) {
            if (!(e instanceof PingetError && e.code === 'NOT_FOUND')) notes.push(`${p.label}: ${path}: ${(e as Error).message}`);
            continue;
          }
          const identity = await parseApk(bytes).then((a) => a.identity, (e: unknown) => `unreadable (${(e as Error).message})`);
          if (identity !== record.identity) {
            notes.push(`${p.label}: ${path}: control identity ${identity} is not the installed C:${record.identity}`);
            continue;
          }
          found = { entry: { sha256: sha256Hex(bytes), path }, identity };
          break;
        }
        if (found) break;
      }
      if (found) pinned.push(found);
      else {
        const mismatch = notes.some((n) => n.includes('control identity'));
        items.push({
          name: `${record.name}-${record.version}`,
          kind: mismatch ? 'unlisted' : 'absent',
          reason: notes.join('; ') || (providers.length ? 'no provider has it' : 'in no repository index with the installed identity'),
          // verify's arch: a noarch package is counted in the system's
          ref: { name: record.name, arch: !record.arch || record.arch === 'noarch' ? arch : record.arch },
        });
      }
    }
  } finally {
    await Promise.all(providers.map((p) => p.close?.()));
  }
  if (pinned.length) opts.log.info(`pinned ${pinned.length} of ${records.length} package(s) from providers, by their control identity`);
  reportUnpinned(
    opts,
    items,
    providers.length
      ? 'pass --allow-missing to leave them out'
      : `run apk update in the root; Alpine keeps no archive of old versions, so name a place that has their .apk files with --provider-append file://DIR/{{.Name}}, or pass --allow-missing`,
  );
  return pinned;
}
