/**
 * The OCI figures: a lockfile's files pushed to and fetched from a local registry (Debian's docker-registry
 * on 127.0.0.1, started here, the one the tests use), against oras doing the same job in one call per
 * manifest. Files of 32 KiB, the size where per-file costs show; each push goes to a fresh repository
 * (a full upload every time), each download into a fresh cache.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startRegistry } from '../test/helpers/registry.js';
import { comparePair, timeProcess, type Cmd, type Figure } from './measure.js';
import { sameSizeFiles } from './fixtures.js';

const FILE_SIZE = 32 * 1024;
/** pinget splits manifests at 1000 layers (src/publish/oci-plan.ts): the reference pulls each of those tags. */
const LAYERS_PER_MANIFEST = 1000;

export interface OciBench {
  rounds: number;
  work: string;
  pinget: (args: string[], extra?: Partial<Cmd>) => Cmd;
  pingetEach: (args: () => string[], before: () => Promise<void>, extra?: Partial<Cmd>) => Cmd;
}

function partTags(tag: string, files: number): string[] {
  return Array.from({ length: Math.ceil(files / LAYERS_PER_MANIFEST) }, (_, i) => (i === 0 ? tag : `${tag}-${i + 1}`));
}

export async function ociFigures(b: OciBench, counts = [500, 5000]): Promise<Figure[]> {
  const skipped = (what: string, why: string): Figure[] => counts.flatMap((n) => [`push ${n}`, `download ${n}`].map((w) => ({ what: `${what} ${w}`, maxRatio: 1.25, skipped: why })));
  if (spawnSync('sh', ['-c', 'command -v oras && command -v docker-registry'], { stdio: 'ignore' }).status !== 0) return skipped('oci', 'needs oras and docker-registry');
  const reg = await startRegistry();
  const docker = await mkdtemp(join(b.work, 'docker-'));
  // An empty docker config: the machine's credentials play no part.
  const env = { ...process.env, DOCKER_CONFIG: docker };
  const figures: Figure[] = [];
  let run = 0;
  try {
    for (const n of counts) {
      const files = await sameSizeFiles(`oci-${n}`, n, FILE_SIZE);
      const size = `${n} files of 32 KiB`;
      const cache = join(b.work, `oci-cache-${n}`);
      await mkdir(cache, { recursive: true });
      const provider = `file://${files.dir}/{{.Name}}`;
      // Warm the cache once: the push figure is about the upload, not about fetching the files first.
      await timeProcess(b.pinget(['download', files.lockfile, '--provider', provider, '--cache', cache, '-o', join(b.work, 'oci-warm'), '--quiet'], { env }));
      await rm(join(b.work, 'oci-warm'), { recursive: true, force: true });

      let repo = '';
      const fresh = async () => void (repo = `bench/push-${n}-${++run}`);
      const push = b.pingetEach(() => ['cache', 'push', `oci+http://${reg.host}/${repo}:v1`, files.lockfile, '--cache', cache, '--provider', provider, '--quiet'], fresh, { env });
      const orasPush: Cmd = {
        argv: () => ['oras', 'push', '--no-tty', '--plain-http', `${reg.host}/${repo}:v1`, ...files.paths],
        cwd: files.dir,
        env,
        before: fresh,
      };
      figures.push({ what: `oci push ${size} to docker-registry vs oras push of the same files in one call`, pair: await comparePair(push, orasPush, b.rounds), maxRatio: 1.25 });

      const stored = `bench/pull-${n}`;
      await timeProcess(b.pinget(['cache', 'push', `oci+http://${reg.host}/${stored}:v1`, files.lockfile, '--cache', cache, '--provider', provider, '--quiet'], { env }));
      const dlCache = join(b.work, 'oci-dl-cache');
      const pulled = join(b.work, 'oci-pulled');
      // Both lay the files out in a fresh directory: pinget by lockfile path (-o), oras by layer title.
      const freshDirs = async () => {
        await rm(dlCache, { recursive: true, force: true });
        await rm(pulled, { recursive: true, force: true });
        await mkdir(pulled);
      };
      const download = b.pingetEach(
        () => ['download', files.lockfile, '--provider', `oci+http://${reg.host}/${stored}`, '--cache', dlCache, '-o', pulled, '--quiet'],
        freshDirs,
        { env },
      );
      const tags = partTags('v1', n);
      const orasPull: Cmd = {
        // One oras pull per manifest, one after the other, as a script would.
        argv: ['sh', '-c', tags.map((t) => `oras pull --no-tty --plain-http -o '${pulled}' '${reg.host}/${stored}:${t}' > /dev/null`).join(' && ')],
        env,
        before: freshDirs,
      };
      figures.push({
        what: `oci download ${size} (${tags.length} manifest${tags.length > 1 ? 's' : ''}) into a fresh cache vs oras pull of the same manifest${tags.length > 1 ? 's' : ''}`,
        pair: await comparePair(download, orasPull, b.rounds),
        maxRatio: 1.25,
      });
      // What the registry adds to pinget's own per-file work (verify, cache, -o): the same download from local files.
      const local = b.pingetEach(
        () => ['download', files.lockfile, '--provider', provider, '--cache', dlCache, '-o', pulled, '--quiet'],
        freshDirs,
        { env },
      );
      figures.push({ what: `oci download ${size} vs pinget download of the same files from file://`, pair: await comparePair(download, local, b.rounds), maxRatio: 1.25 });
    }
  } finally {
    await reg.close();
    await rm(docker, { recursive: true, force: true });
  }
  return figures;
}
