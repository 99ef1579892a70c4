/**
 * `pinget cache push oci://HOST/REPO:TAG LOCKFILE`: pushes a lockfile's files to an OCI registry with
 * `oras push`, one layer per file titled with its lockfile path, under tagged manifests (so registry
 * garbage collection keeps the blobs). See oci-plan.ts for how large lockfiles are split.
 *
 * Blobs already in the repository are not uploaded again: `oras push` asks the registry about each
 * blob (a HEAD, inside the one process) and says `Exists` or `Uploaded` per layer on its output, which
 * is where the counts come from. One oras process per manifest, two manifests at a time.
 */
import { link, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { PingetError } from '../errors.js';
import { unsafePathReason } from '../lockfile.js';
import type { Logger } from '../ui/log.js';
import { SHA256_HEX, sha256Bytes } from '../verify/sha256.js';
import { parseOciTagRef, tagReference, type OciRepo } from '../fetch/oci-ref.js';
import { orasRemoteFlags, runOras } from '../fetch/oras.js';
import { ARTIFACT_TYPE, LAYER_MEDIA_TYPE, PART_ANNOTATION, planManifests, type ManifestPlan, type PushFile } from './oci-plan.js';

export interface PushOptions {
  log: Logger;
  /** Talk plain HTTP (also implied by an oci+http:// reference). */
  plainHttp?: boolean;
  maxLayersPerManifest?: number;
  /** Environment for oras (PINGET_ORAS, DOCKER_CONFIG, SOURCE_DATE_EPOCH); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Manifests pushed at a time (default 2); each oras push uploads 5 blobs at a time. */
  jobs?: number;
}

export interface PushedManifest {
  tag: string;
  digest: string;
  layers: number;
}

export interface PushResult {
  manifests: PushedManifest[];
  /** Distinct blobs the registry did not have before. */
  uploaded: number;
  /** Distinct blobs it already had. */
  skipped: number;
  /** TAG-N tags of an earlier push with more parts, deleted so no reader takes them for parts of this one. */
  removedTags?: string[];
}

interface ManifestJson {
  layers?: { digest?: string; annotations?: Record<string, string> }[];
}

function validate(files: PushFile[]): PushFile[] {
  const byPath = new Map<string, PushFile>();
  for (const f of files) {
    const why = unsafePathReason(f.path);
    if (why) throw new PingetError('BAD_INPUT', `cannot push "${f.path}": ${why}`);
    if (!SHA256_HEX.test(f.sha256)) throw new PingetError('BAD_INPUT', `cannot push "${f.path}": "${f.sha256}" is not a sha256`);
    const seen = byPath.get(f.path);
    if (seen && seen.sha256 !== f.sha256) throw new PingetError('BAD_INPUT', `cannot push "${f.path}": listed with two hashes`);
    byPath.set(f.path, f);
  }
  return [...byPath.values()];
}

/** Lays the files out under their lockfile paths (hard links, else symlinks) so oras titles each layer with its path. */
async function stage(dir: string, files: PushFile[]): Promise<void> {
  for (const f of files) {
    const dest = join(dir, f.path);
    await mkdir(dirname(dest), { recursive: true });
    const src = resolve(f.file);
    try {
      await link(src, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new PingetError('NOT_FOUND', `cannot push ${f.path}: ${f.file} does not exist`, { cause: e });
      await symlink(src, dest);
    }
  }
}

/** What `oras push --no-tty` said of each layer, by title: `Exists    <12 hex> <title>` or `Uploaded  <12 hex> <title>`. */
export function pushStatus(stdout: string): Map<string, 'exists' | 'uploaded'> {
  const out = new Map<string, 'exists' | 'uploaded'>();
  for (const line of stdout.split('\n')) {
    const m = /^(Exists|Uploaded)\s+[0-9a-f]{12}\s+(.+)$/.exec(line.trimEnd());
    if (m) out.set(m[2], m[1] === 'Exists' ? 'exists' : 'uploaded');
  }
  return out;
}

function createdAnnotation(env: NodeJS.ProcessEnv): string[] {
  const epoch = env.SOURCE_DATE_EPOCH;
  if (!epoch || !/^\d+$/.test(epoch)) return [];
  // Reproducible manifests: oras would otherwise stamp the current time.
  return ['--annotation', `org.opencontainers.image.created=${new Date(Number(epoch) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')}`];
}

export async function pushToOci(ref: string, files: PushFile[], opts: PushOptions): Promise<PushResult> {
  const env = opts.env ?? process.env;
  const parsed = parseOciTagRef(ref);
  const repo: OciRepo = { ...parsed, plainHttp: parsed.plainHttp || !!opts.plainHttp };
  const unique = validate(files);
  const plans = planManifests(unique, parsed.tag, opts.maxLayersPerManifest);
  if (plans.length > 1) opts.log.info(`${unique.length} files: split into ${plans.length} manifests (${plans.map((p) => p.tag).join(', ')})`);

  const digests = new Set(unique.map((f) => f.sha256));
  const uploadedDigests = new Set<string>();
  let unreported = 0;
  const limit = pLimit(opts.jobs ?? 2);

  const work = await mkdtemp(join(tmpdir(), 'pinget-oci-push-'));
  try {
    const stageDir = join(work, 'files');
    await mkdir(stageDir);
    await stage(stageDir, unique);
    const pushOne = async (plan: ManifestPlan, i: number): Promise<PushedManifest> => {
      const exported = join(work, `manifest-${i + 1}.json`);
      const args = [
        'push',
        ...orasRemoteFlags(repo),
        '--artifact-type',
        ARTIFACT_TYPE,
        '--export-manifest',
        exported,
        '--annotation',
        `${PART_ANNOTATION}=${i + 1}/${plans.length}`,
        ...createdAnnotation(env),
        tagReference(repo, plan.tag),
        // `--` so a lockfile path starting with "-" is not an option; `path:type` (oras splits at the last colon).
        '--',
        ...plan.files.map((f) => `${f.path}:${LAYER_MEDIA_TYPE}`),
      ];
      opts.log.verbose(`oras push ${tagReference(repo, plan.tag)} (${plan.files.length} files)`);
      const res = await runOras(args, tagReference(repo, plan.tag), { env, cwd: stageDir });
      const status = pushStatus(res.stdout);
      for (const f of plan.files) {
        const said = status.get(f.path);
        if (said === 'uploaded') uploadedDigests.add(f.sha256);
        else if (!said) {
          unreported++;
          uploadedDigests.add(f.sha256);
        }
      }
      const bytes = await readFile(exported);
      checkPushed(JSON.parse(bytes.toString('utf8')) as ManifestJson, plan.files, plan.tag);
      return { tag: plan.tag, digest: `sha256:${sha256Bytes(bytes)}`, layers: plan.files.length };
    };
    const manifests = await Promise.all(plans.map((plan, i) => limit(() => pushOne(plan, i))));
    // A later oras that words its output otherwise: the counts then take every unreported layer as uploaded.
    if (unreported) opts.log.verbose(`oras did not say whether ${unreported} layers existed; counted as uploaded`);
    const skipped = digests.size - uploadedDigests.size;
    opts.log.verbose(`${skipped} of ${digests.size} blobs already in ${repo.registry}/${repo.repository}`);
    // The push itself succeeded: a registry that refuses listing or deleting tags gets a warning, not a failure.
    const removedTags = await removeStaleParts(repo, parsed.tag, plans.length, opts.log, env).catch((e: unknown) => {
      if (!(e instanceof PingetError)) throw e;
      opts.log.warn(`pushed, but could not remove the TAG-N tags of an earlier, longer push under ${parsed.tag} (${e.message}); delete them by hand if there are any`);
      return [] as string[];
    });
    return { manifests, uploaded: uploadedDigests.size, skipped, ...(removedTags.length ? { removedTags } : {}) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The tags `TAG-N` with N > parts: what is left of an earlier, longer push under the same TAG. */
export function staleParts(tags: string[], tag: string, parts: number): string[] {
  const prefix = `${tag}-`;
  return tags
    .filter((t) => t.startsWith(prefix) && /^[1-9]\d*$/.test(t.slice(prefix.length)) && Number(t.slice(prefix.length)) > parts)
    .sort((a, b) => Number(a.slice(prefix.length)) - Number(b.slice(prefix.length)));
}

async function removeStaleParts(repo: OciRepo, tag: string, parts: number, log: Logger, env: NodeJS.ProcessEnv): Promise<string[]> {
  const where = `${repo.registry}/${repo.repository}`;
  const listed = await runOras(['repo', 'tags', ...orasRemoteFlags(repo), where], where, { env });
  const stale = staleParts(listed.stdout.split('\n').map((t) => t.trim()).filter(Boolean), tag, parts);
  for (const t of stale) {
    log.verbose(`oras manifest delete ${tagReference(repo, t)} (part of an earlier push with more parts)`);
    await runOras(['manifest', 'delete', ...orasRemoteFlags(repo), '--force', tagReference(repo, t)], tagReference(repo, t), { env });
  }
  if (stale.length) log.info(`removed ${stale.length} tags of an earlier push with more parts: ${stale.join(', ')}`);
  return stale;
}

/** The layers oras pushed are digests it computed from the files: they must be the lockfile's hashes. */
function checkPushed(manifest: ManifestJson, files: PushFile[], tag: string): void {
  const want = new Map(files.map((f) => [f.path, f.sha256]));
  const layers = manifest.layers ?? [];
  if (layers.length !== files.length) throw new PingetError('INTERNAL', `manifest ${tag}: oras pushed ${layers.length} layers for ${files.length} files`);
  for (const l of layers) {
    const title = l.annotations?.['org.opencontainers.image.title'] ?? '';
    const expected = want.get(title);
    if (!expected) throw new PingetError('INTERNAL', `manifest ${tag}: unexpected layer title "${title}"`);
    if (l.digest !== `sha256:${expected}`) {
      throw new PingetError('INTEGRITY', `${title}: the local file's sha256 is ${l.digest}, the lockfile says ${expected}; run \`pinget cache verify\` and push again`);
    }
  }
}
