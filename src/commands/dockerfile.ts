/**
 * `pinget dockerfile generate`: a Dockerfile that installs a lockfile reproducibly. Two forms:
 *   generate [LOCKFILE] [--base IMAGE@sha256:...]       prints (or -o writes) the Dockerfile
 *   generate DIR BASEIMAGE [PACKAGES...]                repro-get's form: writes DIR/Dockerfile for
 *       DIR/SHA256SUMS-<arch>, and with PACKAGES also DIR/Dockerfile.generate-hash that makes that lockfile.
 */
import { stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { createLogger } from '../ui/log.js';
import { loadLockfile } from './plan.js';
import { checkOutputFile } from './preflight.js';

interface Args {
  lockfile?: string;
  image?: string;
  packages?: string[];
  base?: string;
  'node-image'?: string;
  'allow-tag': boolean;
  'base-lockfile'?: string;
  bundle?: string;
  executable?: string;
  'cache-mount': boolean;
  'network-none': boolean;
  'fetch-provider'?: string[];
  output?: string;
  sbom?: string;
  quiet?: boolean;
}

/** repro-get names lockfiles by the OCI architecture: SHA256SUMS-amd64, SHA256SUMS-arm64. */
export function ociArch(arch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: '386', arm: 'arm', arm64: 'arm64', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[arch] ?? arch;
}

const generate: CommandModule<object, Args> = {
  command: 'generate [lockfile] [image] [packages..]',
  describe: 'print a Dockerfile that installs LOCKFILE (default SHA256SUMS) with pinget, reproducibly',
  builder: (y: Argv) =>
    y
      .positional('lockfile', { type: 'string', describe: "lockfile, relative to the build context (default SHA256SUMS); or repro-get's DIR" })
      .positional('image', { type: 'string', describe: "repro-get's BASEIMAGE (same as --base)" })
      .positional('packages', { type: 'string', array: true, describe: "repro-get's PACKAGES: also write DIR/Dockerfile.generate-hash that makes the lockfile" })
      .option('base', { type: 'string', describe: 'base image, pinned: IMAGE@sha256:... (default: named from the lockfile\'s distro header, which needs --allow-tag)' })
      .option('node-image', { type: 'string', describe: 'image with /usr/local/bin/node for the fetch stage (with the bundle), pinned: IMAGE@sha256:...' })
      .option('allow-tag', { type: 'boolean', default: false, describe: 'accept images named by tag alone (not reproducible: a warning each)' })
      .option('base-lockfile', { type: 'string', describe: "check that LOCKFILE was made with `hash generate --dedupe FILE` (its dedupe-base header)" })
      .option('bundle', { type: 'string', describe: 'the single-file pinget for Node (npm run bundle), relative to the build context (default pinget.mjs)' })
      .option('executable', { type: 'string', describe: 'the single executable (npm run sea), relative to the build context, instead of the bundle: no Node image' })
      .option('cache-mount', { type: 'boolean', default: true, describe: "keep the fetch stage's pinget cache in a build cache mount between builds" })
      .option('network-none', { type: 'boolean', default: true, describe: 'RUN --network=none on the install step (podman < 4.4 rejects it: --no-network-none)' })
      .option('fetch-provider', { type: 'string', array: true, describe: 'provider template for the fetch stage (default: the chain pinget picks there); repeatable' })
      .option('output', { alias: 'o', type: 'string', describe: 'write to FILE instead of stdout' })
      .option('sbom', { type: 'string', describe: 'also write an SBOM of the lockfile next to it: LOCKFILE.cdx.json, or LOCKFILE.spdx.json with --sbom spdx' }) as unknown as Argv<Args>,
  handler: async (args) => {
    const log = createLogger({ quiet: args.quiet });
    let lockfile = args.lockfile ?? 'SHA256SUMS';
    let lockPath = lockfile;
    let output = args.output;
    let base = args.base;
    let dir: string | undefined;
    if (args.image !== undefined) {
      if (base !== undefined) throw new PingetError('USAGE', `the base image is given twice: ${args.image} and --base ${base}`);
      base = args.image;
    }
    if ((await stat(lockfile).catch(() => undefined))?.isDirectory()) {
      if (base === undefined) throw new PingetError('USAGE', `${lockfile} is a directory: the repro-get form is \`dockerfile generate DIR BASEIMAGE [PACKAGES...]\``);
      dir = lockfile;
      lockfile = `SHA256SUMS-${ociArch()}`;
      lockPath = join(dir, lockfile);
      output ??= join(dir, 'Dockerfile');
    } else if (args.packages?.length) {
      throw new PingetError('USAGE', `PACKAGES need the repro-get form \`dockerfile generate DIR BASEIMAGE PACKAGES...\` (${lockfile} is not a directory)`);
    }

    if (!dir) {
      // the build context: the Dockerfile's directory with -o, else here; the COPY names the lockfile in it
      if (output) await checkOutputFile(output);
      lockfile = inContext(output ? dirname(resolve(output)) : process.cwd(), lockfile, 'the lockfile');
    }
    if (args.executable !== undefined) {
      const extra = (['bundle', 'node-image'] as const).filter((o) => args[o] !== undefined);
      if (extra.length) throw new PingetError('USAGE', `--executable runs without Node: drop ${extra.map((o) => `--${o}`).join(' and ')}`);
    }
    const bundle = args.bundle ?? 'pinget.mjs';
    for (const [option, file] of [['--bundle', bundle], ['--executable', args.executable]] as const) {
      if (file !== undefined && (isAbsolute(file) || outside(normalize(file)))) throw outsideError(option, file);
    }

    const haveLock = !!(await stat(lockPath).catch(() => undefined));
    const headers = haveLock || !args.packages?.length ? (await loadLockfile(lockPath)).headers : {};
    const [{ checkDedupeBase }, { defaultNodeImage, generateDockerfile, generateHashDockerfile }] = await Promise.all([import('../dedupe-base.js'), import('../dockerfile.js')]);
    const baseLockfileDigest = args['base-lockfile'] ? await checkDedupeBase(lockPath, headers, args['base-lockfile']) : undefined;
    const { text, tags } = generateDockerfile({
      lockfile,
      headers,
      base,
      nodeImage: args['node-image'],
      allowTag: args['allow-tag'],
      bundle,
      executable: args.executable,
      cacheMount: args['cache-mount'],
      networkNone: args['network-none'],
      fetchProviders: args['fetch-provider'],
      baseLockfileDigest,
    });
    for (const t of tags) log.warn(`${t} is named by tag alone (--allow-tag): the image it names can change, and the build with it`);
    if (dir && args.packages?.length) {
      const hashFile = join(dir, 'Dockerfile.generate-hash');
      const nodeImage = args.executable ? undefined : (args['node-image'] ?? defaultNodeImage(headers, base));
      await writeFileAtomic(hashFile, generateHashDockerfile({ base: base!, nodeImage, bundle, executable: args.executable, packages: args.packages, lockName: lockfile }));
      log.info(`wrote ${hashFile}: \`docker buildx build --output ${dir} -f ${hashFile} ${dir}\` makes ${lockPath}`);
    }
    if (args.sbom !== undefined) await writeSbomBeside(lockPath, haveLock, args.sbom, log);
    if (output) {
      await writeFileAtomic(output, text);
      if (dir) log.info(`wrote ${output}`);
    } else process.stdout.write(text);
  },
};

const outside = (rel: string) => rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);

/** An absolute path or one that climbs out with `..` gives a COPY that fails at build time: refused now. */
const outsideError = (what: string, path: string) =>
  new PingetError('USAGE', `${what} ${path} is outside the build context, so the Dockerfile's COPY of it would fail: put it in the build context (with -o, the Dockerfile's directory; else the current one)`);

/** `path` (as read from here) relative to the build context, for the COPY; refused when outside it. */
function inContext(context: string, path: string, what: string): string {
  const rel = relative(context, resolve(path));
  if (rel === '' || outside(rel)) throw outsideError(what, path);
  return rel.split(sep).join('/');
}

/** `--sbom [cyclonedx|spdx]`: the SBOM of the lockfile, beside it (see `pinget sbom`). */
async function writeSbomBeside(lockPath: string, haveLock: boolean, value: string, log: ReturnType<typeof createLogger>): Promise<void> {
  const { makeSbom, SBOM_FORMATS } = await import('./sbom-run.js');
  const format = (value || 'cyclonedx') as (typeof SBOM_FORMATS)[number];
  if (!SBOM_FORMATS.includes(format)) throw new PingetError('USAGE', `--sbom: unknown format "${value}"; give ${SBOM_FORMATS.join(' or ')}`);
  if (!haveLock) throw new PingetError('USAGE', `--sbom: ${lockPath} does not exist yet; make it first, then generate again`);
  const file = `${lockPath}.${format === 'spdx' ? 'spdx' : 'cdx'}.json`;
  await writeFileAtomic(file, (await makeSbom({ file: lockPath, format, log })).text);
  log.info(`wrote ${file}`);
}

export const dockerfileCommand: CommandModule = {
  command: 'dockerfile <command>',
  describe: 'Dockerfiles that install lockfiles reproducibly',
  builder: (y: Argv) => y.command(generate).demandCommand(1),
  handler: () => {},
};
