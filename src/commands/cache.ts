/** `pinget cache ls|verify|clean|export|import|push`: the local content-addressed cache. */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { formatLockfile } from '../lockfile.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { SHA256_HEX } from '../verify/sha256.js';
import { nameList, SHOWN_NAMES } from '../distro/missing.js';
import type { LayoutFile } from '../publish/oci-layout.js';
// The OCI and IPFS code loads inside the subcommand that uses it.
const ociLayout = () => import('../publish/oci-layout.js');
import { makeContext, printJson, repeatable, withGlobalOptions, type GlobalArgs, type CommandContext } from './context.js';
import { fetchTargets } from './fetch-run.js';
import { chooseDistro, loadLockfile, loadLockfiles, targetsFor } from './plan.js';

type Args = GlobalArgs & { dir?: string; keep?: string[]; url?: string; lockfile?: string; tag?: string; 'plain-http'?: boolean; 'max-layers'?: number };

const ls: CommandModule<object, Args> = {
  command: 'ls',
  describe: 'list the blobs in the cache',
  builder: (y: Argv) => withGlobalOptions(y) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const blobs = await ctx.cache.list();
    if (args.json) printJson({ dir: ctx.cache.dir, blobs: blobs.map((b) => ({ sha256: b.sha256, bytes: b.size })) });
    else for (const b of blobs) process.stdout.write(`${b.sha256}  ${b.size}\n`);
  },
};

const verify: CommandModule<object, Args> = {
  command: 'verify',
  describe: 're-hash every blob; remove those that no longer match (exit 3 if any did not)',
  builder: (y: Argv) => withGlobalOptions(y) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const { ok, bad } = await ctx.cache.verify();
    if (args.json) printJson({ ok: bad.length === 0, verified: ok.length, bad });
    else ctx.log.info(`${ok.length} blobs verified${bad.length ? `, ${bad.length} corrupted and removed: ${nameList(bad)}` : ''}`);
    if (bad.length > SHOWN_NAMES) ctx.log.verbose(`  removed: ${bad.join(', ')}`);
    if (bad.length) throw new PingetError('INTEGRITY', `${bad.length} corrupted blob${bad.length === 1 ? '' : 's'} removed from ${ctx.cache.dir}`);
  },
};

const clean: CommandModule<object, Args> = {
  command: 'clean',
  describe: 'remove blobs (all, or all but those the --keep lockfiles pin) and leftover temp files',
  builder: (y: Argv) => withGlobalOptions(y).option('keep', repeatable('keep the blobs this lockfile pins; repeatable')) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const keep = new Set<string>();
    for (const f of args.keep ?? []) for (const e of (await loadLockfile(f)).entries) keep.add(e.sha256);
    const removed = await ctx.cache.clean(keep.size ? (sha) => keep.has(sha) : undefined);
    if (args.json) printJson({ removed });
    else ctx.log.info(`removed ${removed} blobs from ${ctx.cache.dir}`);
  },
};

const exportCmd: CommandModule<object, Args> = {
  command: 'export <dir>',
  describe: 'write the cache (or one lockfile\'s files) into DIR as an OCI image layout: index.json, a manifest titled with lockfile paths, blobs/sha256/<hex>',
  builder: (y: Argv) =>
    withGlobalOptions(y)
      .positional('dir', { type: 'string', demandOption: true })
      .option('lockfile', { type: 'string', describe: "only this lockfile's files (fetched when missing), each layer titled with its lockfile path" })
      .option('tag', { type: 'string', default: 'latest', describe: 'the ref name in index.json (parts past the first: TAG-2, TAG-3, ...)' })
      .option('max-layers', { type: 'number', describe: 'files per manifest before splitting into TAG-2, TAG-3, ...' }) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const dir = args.dir!;
    const dest = join(dir, 'blobs', 'sha256');
    await mkdir(dest, { recursive: true });
    const files: (LayoutFile & { blob: string })[] = [];
    if (args.lockfile) {
      for (const f of (await ensureCached(ctx, args.lockfile)).files) files.push({ path: f.path, sha256: f.sha256, size: (await stat(f.file)).size, blob: f.file });
    } else {
      // without a lockfile the cache knows no paths: each blob is titled with its hash
      for (const b of await ctx.cache.list()) files.push({ path: b.sha256, sha256: b.sha256, size: b.size, blob: ctx.cache.blobPath(b.sha256) });
    }
    const { planLayout, writeLayoutMetadata } = await ociLayout();
    const plan = planLayout(files, args.tag ?? 'latest', { sourceDateEpoch: process.env.SOURCE_DATE_EPOCH, maxLayers: args['max-layers'] });
    const done = new Set<string>();
    for (const f of files) {
      if (done.has(f.sha256)) continue;
      done.add(f.sha256);
      // what leaves the cache is re-hashed first, as everywhere else
      const blob = await ctx.cache.verifyBlob(f.sha256);
      if (blob.state !== 'hit') throw new PingetError('INTEGRITY', `${f.path}: the cached blob ${f.sha256} is ${blob.state === 'miss' ? 'missing' : 'corrupted'}; run pinget cache verify, then export again`);
      await ctx.cache.materialize(f.sha256, join(dest, f.sha256));
    }
    await writeLayoutMetadata(dir, plan);
    if (args.json) printJson({ exported: done.size, dir, manifests: plan.manifests });
    else ctx.log.info(`exported ${done.size} blobs to ${dir} as an OCI image layout: ${plan.manifests.map((m) => `${m.tag}@${m.digest}`).join(', ')}`);
  },
};

async function* walk(dir: string): AsyncGenerator<string> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else if (e.isFile()) yield p;
  }
}

const importCmd: CommandModule<object, Args> = {
  command: 'import <dir>',
  describe: 'add files to the cache after checking their hashes: the layers of an OCI image layout (cache export, oras copy --to-oci-layout), a blob store, or a `download` directory with --lockfile',
  builder: (y: Argv) =>
    withGlobalOptions(y)
      .positional('dir', { type: 'string', demandOption: true })
      .option('lockfile', { type: 'string', describe: 'DIR holds files at their lockfile paths (as `download` lays them out)' }) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const dir = args.dir!;
    if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new PingetError('BAD_INPUT', `${dir}: not a directory`);
    let imported = 0;
    const rejected: string[] = [];
    const missing: string[] = [];
    const add = async (sha256: string, file: string) => {
      try {
        await ctx.cache.ingestFile(sha256, file);
        imported++;
      } catch (e) {
        if (e instanceof PingetError && e.code === 'INTEGRITY') rejected.push(relative(dir, file));
        else throw e;
      }
    };
    let layout: Awaited<ReturnType<typeof ociLayout>> | undefined;
    if (args.lockfile) {
      const lock = await loadLockfile(args.lockfile);
      for (const e of lock.entries) {
        const file = join(dir, e.path);
        if (await stat(file).catch(() => undefined)) await add(e.sha256, file);
      }
    } else if (await (layout ??= await ociLayout()).isLayout(dir)) {
      for (const l of await layout.readLayoutLayers(dir)) {
        if (await stat(l.file).catch(() => undefined)) await add(l.sha256, l.file);
        else missing.push(l.title ?? l.sha256);
      }
    } else {
      for await (const file of walk(dir)) {
        const name = file.slice(file.lastIndexOf('/') + 1);
        if (SHA256_HEX.test(name)) await add(name, file);
      }
    }
    if (args.json) printJson({ imported, rejected, missing });
    else {
      ctx.log.info(`imported ${imported} files into ${ctx.cache.dir}${rejected.length ? `; rejected ${rejected.length} whose bytes do not match: ${nameList(rejected)}` : ''}`);
      if (rejected.length > SHOWN_NAMES) ctx.log.verbose(`  rejected: ${rejected.join(', ')}`);
      // a layout may legitimately hold only some blobs (oras copy of a manifest whose layers were elsewhere)
      if (missing.length) ctx.log.warn(`${missing.length} layers the layout's manifests list are not in ${dir}: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    }
    if (rejected.length) throw new PingetError('INTEGRITY', `${rejected.length} files in ${dir} do not match their hashes and were not imported`);
  },
};

/** Makes sure every file of the lockfile is in the cache, fetching what is missing through the chain. */
async function ensureCached(ctx: CommandContext, lockfile: string) {
  const lock = await loadLockfiles([lockfile]);
  const choice = await chooseDistro(ctx, lock).catch(() => undefined);
  const results = await fetchTargets(ctx, choice, targetsFor(lock.entries, lock, choice?.adapter), lock.headers);
  return { lock, files: results.map((r) => ({ path: r.target.path, sha256: r.target.sha256, file: r.file })) };
}

export const push: CommandModule<object, Args> = {
  command: 'push <url> <lockfile>',
  describe: 'mirror the files of a lockfile to an OCI registry (oci://HOST/REPO:TAG) or IPFS (ipfs), from the cache',
  builder: (y: Argv) =>
    withGlobalOptions(y)
      .positional('url', { type: 'string', demandOption: true, describe: 'oci://HOST[:PORT]/REPO:TAG, oci+http://..., ipfs, or ipfs+api://HOST:PORT' })
      .positional('lockfile', { type: 'string', demandOption: true })
      .option('plain-http', { type: 'boolean', default: false, describe: 'the registry speaks HTTP without TLS' })
      .option('max-layers', { type: 'number', describe: 'files per OCI manifest before splitting into TAG-2, TAG-3, ...' }) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const url = args.url!;
    const { lock, files } = await ensureCached(ctx, args.lockfile!);
    if ((await import('../fetch/oci-ref.js')).ociScheme(url)) {
      const { pushToOci } = await import('../publish/oci.js');
      const res = await pushToOci(url, files, { log: ctx.log, plainHttp: args['plain-http'], maxLayersPerManifest: args['max-layers'] });
      if (args.json) printJson(res);
      else ctx.log.info(`pushed ${files.length} files to ${url}: ${res.uploaded} uploaded, ${res.skipped} already there; manifests: ${res.manifests.map((m) => `${m.tag}@${m.digest}`).join(', ')}`);
    } else if (url === 'ipfs' || url.startsWith('ipfs://') || url.startsWith('ipfs+api://')) {
      const [{ DEFAULT_IPFS_API }, { publishToIpfs }] = await Promise.all([import('../fetch/ipfs.js'), import('../publish/ipfs.js')]);
      const api = url.startsWith('ipfs+api://') ? url.slice('ipfs+api://'.length) : (ctx.providerContext.ipfsApi ?? DEFAULT_IPFS_API);
      const res = await publishToIpfs(files, { api, log: ctx.log });
      for (const [sha, cid] of res.cids) lock.cids.set(sha, cid);
      lock.headers['ipfs-import'] = res.settings;
      if (args.lockfile === '-' || args.lockfile === '/dev/stdin') process.stdout.write(formatLockfile(lock));
      else await writeFileAtomic(args.lockfile!, formatLockfile(lock));
      if (args.json) printJson({ cids: Object.fromEntries(res.cids), settings: res.settings });
      else ctx.log.info(`added and pinned ${res.cids.size} files on IPFS (${res.settings}); wrote their /ipfs/ lines into ${args.lockfile}`);
    } else {
      throw new PingetError('USAGE', `cannot push to "${url}": expected oci://HOST/REPO:TAG, oci+http://HOST/REPO:TAG or ipfs`);
    }
  },
};

export const cacheCommand: CommandModule = {
  command: 'cache <command>',
  describe: 'the local content-addressed cache',
  builder: (y: Argv) => y.command(ls).command(verify).command(clean).command(exportCmd).command(importCmd).command(push).demandCommand(1),
  handler: () => {},
};

