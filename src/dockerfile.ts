/**
 * A Dockerfile that installs a lockfile reproducibly, after BuildKit's reproducible-image practice:
 *  - every FROM pinned by digest (a tag only with allowTag, said loudly by the caller and in the header);
 *  - a hermetic install: the `pinget-fetch` stage (network on) runs `pinget download` into a directory; the
 *    final stage installs from that directory alone (`file://` provider) with `RUN --network=none`;
 *  - pinget is either the bundle run by the Node of a Node image (the fetch stage is that image, its node is
 *    copied for the install) or the single executable (`npm run sea`; the fetch stage is the base itself);
 *  - pinget (and Node) and the files are bind-mounted for the one install RUN, its cache is a tmpfs: nothing stays;
 *  - SOURCE_DATE_EPOCH from the lockfile's snapshot header is the ARG default, and the header comment gives
 *    the exact build command per builder (buildCommands).
 * No `# syntax=` line: a floating docker/dockerfile:1 would be one more unpinned input, the frontend built
 * into BuildKit knows RUN --mount and --network, and podman ignores the line. Pure: same inputs, same bytes.
 */
import { basename } from './lockfile.js';
import { PingetError } from './errors.js';

/** The Node major of the current LTS line, for the suggested node image name. */
export const NODE_LTS = 26;

export interface DockerfileOptions {
  lockfile: string;
  headers: Record<string, string>;
  base?: string;
  nodeImage?: string;
  /** Accept a base or node image named by tag alone (not reproducible; the caller warns). */
  allowTag?: boolean;
  bundle: string;
  /** The single executable (npm run sea) instead of the bundle: no Node image. */
  executable?: string;
  /** Keep the fetch stage's pinget cache in a build cache mount between builds. */
  cacheMount: boolean;
  /** `RUN --network=none` on the install step (BuildKit; podman >= 4.4 / buildah >= 1.29). */
  networkNone?: boolean;
  /** Provider templates for the fetch stage (default: the chain pinget picks there). */
  fetchProviders?: string[];
  /** sha256:... of the base lockfile the lockfile's dedupe-base header was checked against. */
  baseLockfileDigest?: string;
}

/** The image a lockfile's distro header most likely came from (a tag: pin it by digest). */
export function defaultBase(headers: Record<string, string>): string | undefined {
  const m = /^(\S+)\s+(\S+)?(?:\s+\(([^)]+)\))?/.exec(headers.distro ?? '');
  if (!m) return undefined;
  const [, id, version, codename] = m;
  switch (id) {
    case 'debian':
    case 'ubuntu':
      return `${id}:${codename ?? version}`;
    case 'fedora':
    case 'alpine':
      return version ? `${id}:${version}` : undefined;
    case 'arch':
      return 'archlinux:base';
    default:
      return undefined;
  }
}

/** The official Node image of the current LTS that fits the base's libc and release. */
export function defaultNodeImage(headers: Record<string, string>, base: string | undefined): string {
  const distro = headers.distro ?? '';
  if (muslBase(headers, base)) return `node:${NODE_LTS}-alpine`;
  const codename = /^debian\s+\S+\s+\(([^)]+)\)/.exec(distro)?.[1];
  return codename ? `node:${NODE_LTS}-${codename}-slim` : `node:${NODE_LTS}-slim`;
}

export function epochOf(headers: Record<string, string>): number | undefined {
  const t = headers.snapshot ? Date.parse(headers.snapshot) : NaN;
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

/** `name[:tag]@sha256:<64 hex>`: pinned by digest. */
export function isPinned(image: string): boolean {
  return /^[^@\s]+@sha256:[0-9a-f]{64}$/.test(image);
}

const howToPin = (image: string) =>
  `pin it by digest: ${image}@sha256:<digest> (the digest is printed by \`docker buildx imagetools inspect ${image}\`, \`skopeo inspect --format '{{.Digest}}' docker://${image}\` or \`podman images --digests\`)`;

/** The image to use for `what`, or why it cannot be used (not given, not an image, or not pinned and tags are not allowed). */
function pinnedImage(image: string | undefined, fallback: string | undefined, what: string, option: string, allowTag: boolean): { image: string } | { problem: string } {
  const chosen = image ?? fallback;
  if (!chosen) return { problem: `no ${what} to build from; pass ${option} IMAGE@sha256:...` };
  if (isPinned(chosen) || allowTag) return { image: chosen };
  if (!/^[^\s@]+(@sha256:[0-9a-f]{64})?$/.test(chosen)) return { problem: `${option} ${chosen}: not an image reference` };
  const given = image ? `${option} ${chosen} is a tag` : `no ${option} given (the ${what} would be ${chosen})`;
  return { problem: `${given}: a tag moves, so the build would not be reproducible; ${howToPin(chosen)}; or pass --allow-tag to accept the tag` };
}

/** The images, or one USAGE error naming every image option that is missing or unpinned (not one per run). */
function pinnedImages(choices: ReturnType<typeof pinnedImage>[]): string[] {
  const problems = choices.flatMap((c) => ('problem' in c ? [c.problem] : []));
  if (problems.length === 1) throw new PingetError('USAGE', problems[0]!);
  if (problems.length > 1) throw new PingetError('USAGE', `${problems.length} images cannot be used as given:`, { details: problems });
  return choices.map((c) => ('image' in c ? c.image : ''));
}

/** Node's Linux executables link glibc: the single executable does not run on a musl base (Alpine). */
function muslBase(headers: Record<string, string>, base: string | undefined): boolean {
  return /^alpine\b/.test(headers.distro ?? '') || /(^|\/)alpine[:@]/.test(base ?? '');
}

/** The header line that says how to make the pinget file the Dockerfile takes from the build context. */
function pingetFileLine(o: { executable?: string; bundle: string }): string {
  return o.executable
    ? `#   ${o.executable}: the single executable; \`npm run sea\` in a pinget clone makes it (dist/pinget-linux-<arch>)`
    : `#   ${o.bundle}: pinget in one file for Node; \`npm run bundle\` in a pinget clone makes it (dist/pinget.mjs)`;
}

/** Single-quotes a word for the shell of a RUN line. */
function shq(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Everything of pinget in the build: the bundle, the lockfile, node and the fetched files. */
const DIR = '/pinget';
const FILES = `${DIR}/files`;

/**
 * The header's build commands, one per builder, as measured (test/docker-build.test.ts): the install step
 * clamps every mtime and leaves no whiteout, so its layer is the same bytes by itself and no timestamp
 * rewriting is needed. Not `--output type=image,rewrite-timestamp=true`: Docker's containerd image store
 * refuses it (it conflicts with unpacking, moby/buildkit#4230). `--provenance=false`: the provenance
 * attestation buildx adds by default records when the build ran, and the containerd store keeps it in the image.
 */
export function buildCommands(sde: string): string[] {
  const docker = `docker buildx build --provenance=false --build-arg SOURCE_DATE_EPOCH=${sde} --load -t IMAGE .`;
  return [
    '# Built twice, each of these gives one image id:',
    `#   Docker (BuildKit), containerd or classic image store:  ${docker}`,
    '#   docker buildx with a docker-container builder:        the same with --builder NAME',
    `#   podman/buildah:  podman build --timestamp ${sde} -t IMAGE .   (or: buildah build --timestamp ${sde} -t IMAGE .)`,
  ];
}

export interface GeneratedDockerfile {
  text: string;
  /** Images given by tag alone (accepted with allowTag): the caller warns about each. */
  tags: string[];
}

export function generateDockerfile(o: DockerfileOptions): GeneratedDockerfile {
  const allowTag = o.allowTag === true;
  const defBase = defaultBase(o.headers);
  if (!o.base && !defBase) throw new PingetError('USAGE', `${o.lockfile}: no distro header to choose a base image from; pass --base IMAGE@sha256:...`);
  const baseChoice = pinnedImage(o.base, defBase, 'base image', '--base', allowTag);
  const chosenBase = 'image' in baseChoice ? baseChoice.image : (o.base ?? defBase);
  const nodeChoice = o.executable ? undefined : pinnedImage(o.nodeImage, defaultNodeImage(o.headers, chosenBase), 'Node image', '--node-image', allowTag);
  const [base, nodeImage] = pinnedImages(nodeChoice ? [baseChoice, nodeChoice] : [baseChoice]) as [string, string | undefined];
  if (o.executable && muslBase(o.headers, base)) {
    throw new PingetError('USAGE', `--executable: ${base} is a musl (Alpine) base and the single executable needs glibc; use the bundle (--bundle with --node-image) there`);
  }
  const tags = [base, ...(nodeImage ? [nodeImage] : [])].filter((i) => !isPinned(i));
  const epoch = epochOf(o.headers);
  const lockName = basename(o.lockfile);
  const lockIn = `${DIR}/${lockName}`;
  const fetchMounts = o.cacheMount ? ['--mount=type=cache,target=/var/cache/pinget,sharing=locked'] : [];
  const providers = (o.fetchProviders ?? []).flatMap((p) => ['--provider', shq(p)]);
  // One directory from the fetch stage, bound at a top-level path for one RUN: podman removes a mount point
  // it made when the RUN ends, but not parent directories it made for nested ones.
  const installMounts = [
    `--mount=type=bind,from=pinget-fetch,source=${DIR},target=${DIR}`,
    // pinget's cache and dpkg's staging dir live in /tmp for this RUN only.
    '--mount=type=tmpfs,target=/tmp',
  ];
  // The executable runs by itself; the bundle by the Node image's node, copied beside it for the install step.
  const fetchPinget = o.executable ? [`${DIR}/pinget`] : ['cp', '/usr/local/bin/node', `${DIR}/node`, '&&', 'node', `${DIR}/pinget.mjs`];
  const installPinget = o.executable ? [`${DIR}/pinget`] : [`${DIR}/node`, `${DIR}/pinget.mjs`];
  const sde = epoch === undefined ? '<SOURCE_DATE_EPOCH>' : String(epoch);
  const run = (flags: string[], cmd: string[]) => `RUN ${[...flags, cmd.join(' ')].join(' \\\n    ')}`;
  const lines = [
    `# Generated by \`pinget dockerfile generate\` from ${lockName}${o.baseLockfileDigest ? ` (deduped against the base lockfile ${o.baseLockfileDigest})` : ''}.`,
    tags.length === 0
      ? '# Every FROM is pinned by digest.'
      : `# NOT reproducible: ${tags.join(' and ')} ${tags.length === 1 ? 'is' : 'are'} named by tag alone (--allow-tag), so what a FROM gives can change; pin by digest.`,
    '# pinget-fetch downloads the pinned packages (network on); the last stage installs them from that stage alone',
    `# with no network; nothing of pinget${o.executable ? '' : ' or Node'} stays in the image.`,
    '# The build context holds:',
    `#   ${o.lockfile}: the lockfile; \`pinget hash generate\` or \`pinget lock\` makes it`,
    pingetFileLine(o),
    epoch === undefined
      ? '# The lockfile has no snapshot header: pass SOURCE_DATE_EPOCH yourself.'
      : `# SOURCE_DATE_EPOCH=${epoch} is the lockfile's snapshot (${o.headers.snapshot}).`,
    ...buildCommands(sde),
    ...(o.networkNone === false ? ['# (Generated with --no-network-none: the install step is offline by its file:// provider alone.)'] : []),
    epoch === undefined ? 'ARG SOURCE_DATE_EPOCH' : `ARG SOURCE_DATE_EPOCH=${epoch}`,
    '',
    `FROM ${nodeImage ?? base} AS pinget-fetch`,
    // The lockfile comes first: a repeatable option must never be able to take it as its value.
    o.executable ? `COPY ${o.executable} ${DIR}/pinget` : `COPY ${o.bundle} ${DIR}/pinget.mjs`,
    `COPY ${o.lockfile} ${lockIn}`,
    run(fetchMounts, [...fetchPinget, 'download', lockIn, ...(o.cacheMount ? ['--cache', '/var/cache/pinget'] : []), '-o', FILES, ...providers]),
    '',
    `FROM ${base}`,
    'ARG SOURCE_DATE_EPOCH',
    run([...(o.networkNone === false ? [] : ['--network=none']), ...installMounts], [
      ...installPinget,
      'install',
      lockIn,
      '--normalize',
      '--cache',
      '/tmp/pinget-cache',
      '--provider',
      shq(`file://${DIR}/files/{{.Name}}`),
    ]),
    '',
  ];
  return { text: lines.join('\n'), tags };
}

export interface HashDockerfileOptions {
  base: string;
  /** The image with /usr/local/bin/node for the bundle; not with executable. */
  nodeImage?: string;
  bundle: string;
  executable?: string;
  packages: string[];
  /** The lockfile name to write, e.g. SHA256SUMS-amd64. */
  lockName: string;
}

/**
 * repro-get's `Dockerfile.generate-hash` (Debian/Ubuntu bases): installs PACKAGES with apt in the base and
 * exports two lockfiles to the build output, the base's (`base.<lockName>`) and the packages' own, deduped
 * against it (`<lockName>`, with the dedupe-base header that `--base-lockfile` checks).
 */
export function generateHashDockerfile(o: HashDockerfileOptions): string {
  for (const p of o.packages) if (!/^[a-z0-9][a-z0-9+.:-]*(=[A-Za-z0-9.+~:-]+)?$/.test(p)) throw new PingetError('USAGE', `${p}: not a Debian package name`);
  const pinget = o.executable ? `${DIR}/pinget` : `${DIR}/node ${DIR}/pinget.mjs`;
  const mounts = o.executable
    ? [`--mount=type=bind,source=${o.executable},target=${DIR}/pinget`]
    : [`--mount=type=bind,from=pinget-node,source=/usr/local/bin/node,target=${DIR}/node`, `--mount=type=bind,source=${o.bundle},target=${DIR}/pinget.mjs`];
  const pkgs = o.packages.join(' ');
  return [
    `# Generated by \`pinget dockerfile generate\`: writes ${o.lockName} (and base.${o.lockName}) for ${pkgs} on the base. Run:`,
    `#   docker buildx build --output . -f Dockerfile.generate-hash .`,
    '# The build context holds:',
    pingetFileLine(o),
    ...(o.executable ? [] : [`FROM ${o.nodeImage} AS pinget-node`, '']),
    `FROM ${o.base} AS pinget-hash`,
    ...mounts.map((m, i) => `${i === 0 ? 'RUN ' : '    '}${m} \\`),
    `    set -eu; mkdir /pinget-out; apt-get update; \\`,
    `    ${pinget} hash generate -o /pinget-out/base.${o.lockName}; \\`,
    `    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs}; \\`,
    `    ${pinget} hash generate --dedupe /pinget-out/base.${o.lockName} -o /pinget-out/${o.lockName}`,
    '',
    'FROM scratch',
    `COPY --from=pinget-hash /pinget-out/ /`,
    '',
  ].join('\n');
}
