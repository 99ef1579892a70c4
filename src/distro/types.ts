/**
 * What a distro is, as the core sees it: the package reference, the adapter interface every distro folder
 * implements, and the types they exchange. Adapters (distros/) import this; the core never imports them.
 * Adapters know nothing of the CLI; the commands drive them.
 * (repro-get's pkg/distro interface is the same idea: Info, GenerateHash, InspectFile, InstallPackages.)
 */
import type { LockEntry } from '../lockfile.js';
import type { Logger } from '../ui/log.js';
import type { ProviderContext, ProviderFactory } from '../fetch/types.js';
import type { PackageRef } from './package-ref.js';
import type { PackageFacts, SbomHooks, SourcePackage } from './sbom-types.js';

export type { PackageRef };

export interface DistroInfo {
  /** Adapter id: 'debian', 'ubuntu', 'fedora', 'alpine', 'arch'. */
  id: string;
  /** os-release ID as found (e.g. 'rocky' for a RHEL-like handled by the fedora adapter). */
  osId: string;
  idLike: string[];
  versionId?: string;
  codename?: string;
  prettyName?: string;
  /** The distro's own architecture name (amd64, x86_64, ...), when known. */
  arch?: string;
}


/** A provider as a URL template (see src/fetch/template.ts), with a label for messages. */
export interface ProviderSpec {
  template: string;
  label?: string;
}

/** A file whose bytes have been verified against its lockfile hash. */
export interface LocalFile {
  entry: LockEntry;
  /** Absolute path of the verified bytes (usually in the cache). */
  file: string;
}

export interface GenerateOptions {
  /** Only these package names (all installed packages when empty or undefined). */
  only?: string[];
  /** Skip signature checks of the distro's indexes (said loudly by the caller). */
  allowUnsigned?: boolean;
  /** Leave out, with a warning, installed packages no index or cache can pin (default: exit 2 naming them). */
  allowMissing?: boolean;
  /** Where --allow-missing collects the `name:arch` of what it left out (the lockfile's `left-out` header). */
  leftOut?: string[];
  /** Never ask an archive for versions the indexes no longer list (`--offline`). */
  offline?: boolean;
  /** How to reach the distro's archives (base URL overrides, timeouts); without it no archive is asked. */
  archive?: ProviderContext;
  /** Provider templates given on the command line (`--provider`, `--provider-append`), asked by path for
   * files no index has where the distro has no archive (Alpine); a file is pinned only with its identity. */
  candidateProviders?: string[];
  log: Logger;
}

export interface GenerateResult {
  entries: LockEntry[];
  /** Headers the adapter knows: distro, snapshot, and any of its own. */
  headers: Record<string, string>;
}

export interface InstallOptions {
  reinstall?: boolean;
  /** The packages the caller read from the root's database before fetching (adapter.installed); read again when absent. */
  installed?: PackageRef[];
  allowUnsigned?: boolean;
  log: Logger;
}

export interface InstallReport {
  installed: PackageRef[];
  /** Already present at the same version, not handed to the package manager. */
  skipped: PackageRef[];
}

/** A pinned package that is installed at its pinned version, for the deep checks. */
export interface PinnedInstalled {
  ref: PackageRef;
  entry: LockEntry;
  /** The pinned bytes, when the cache holds them (already named by their sha256). */
  file?: string;
}

/** One installed file that differs from what its package says it should be. */
export interface FileDrift {
  /** `name:arch` of the package. */
  package: string;
  /** Absolute path inside the root. */
  path: string;
  reason: string;
}

/** A package installed at its pinned version, but as another build than the pinned file. */
export interface BuildDrift {
  ref: PackageRef;
  /** The lockfile path of the pinned file. */
  path: string;
  reason: string;
}

/** A local package file as `hash inspect` reports it: its lockfile path and the package it holds. */
export interface InspectedFile extends PackageRef {
  path: string;
}

/** What `install --normalize` must know of a distro's package manager. */
export interface Normalization {
  /** Paths relative to the root that record when or how the package manager ran; a trailing `/*` empties a directory. */
  volatile: string[];
  /** Makes deterministic in place what must be kept of those records; returns the volatile paths it kept. */
  keep?(root: string, epoch: number, headers: Record<string, string>, log: Logger): Promise<string[]>;
}

/**
 * How a resolver reaches the distro's indexes: through pinget's own fetch chain (the cache, then each base URL
 * in order), never by the package manager itself. The command layer implements it.
 */
export interface IndexFetcher {
  /** A small document no hash names yet (a signed release file): the first of `urls` that serves it. */
  document(urls: string[], maxBytes: number): Promise<{ url: string; data: Buffer }>;
  /**
   * Files whose sha256 a verified document names: the cache first, then `bases` in order; returns the verified
   * local files in order. With `plain`, the file is a compressed index and what is returned is its decompressed
   * form (`compression`: gz, xz, zst ...), verified against `plain.sha256` and cached under it (a later run needs neither download nor decompression).
   */
  files(targets: { path: string; sha256: string; bases: string[]; plain?: { sha256: string; compression: string } }[]): Promise<string[]>;
  /**
   * Files no verified document names a sha256 for, only something `check` can prove of the bytes (an apk
   * index's identity of a package's control segment): each from `bases` in order, stored in the cache under the
   * hash its bytes turn out to have, and returned only once `check` accepted the local file (it throws
   * INTEGRITY saying why not). `key` names what the file must be (`apk:Q1...`): the sha256 an earlier run
   * found for it is tried in the cache first, and checked again all the same.
   */
  unpinned(targets: { path: string; key: string; bases: string[]; check(file: string): Promise<void> }[]): Promise<{ sha256: string; file: string }[]>;
}

/** An empty base: a distro release with no package installed, and where its packages are. */
export interface EmptyBase {
  /** os-release ID: debian, ubuntu. */
  osId: string;
  /** Codename or version: bookworm, noble. */
  release: string;
  /** Mirror base URIs; empty: the host's configured mirrors of that distro. */
  mirrors: string[];
  /** OpenPGP public key files the indexes are checked with (`--keyring`), for distros whose keys an empty system cannot bring. */
  keyrings: string[];
}

/** Package names -> the files that installing them would add to a base (`pinget lock`). */
export interface ResolveRequest {
  /** Package names as the user wrote them (`name`, `name=version`, `name/release`). */
  names: string[];
  /** The distro's architecture name to resolve for. */
  arch: string;
  /** The installed base, an unpacked root that is only read; or an empty system. */
  base: { root: string } | { empty: EmptyBase };
  /** Follow weak dependencies (Recommends) as the package manager does by default. */
  recommends: boolean;
  /** A default target release (`-t`), where the package manager has one. */
  targetRelease?: string;
  /** Resolve against the snapshot archive as it was at this moment instead of today's mirrors. */
  snapshot?: Date;
  allowUnsigned?: boolean;
  fetcher: IndexFetcher;
  archive: ProviderContext;
  /** `--sources`: say each entry's source package in the result (ResolveResult.sources), where the indexes tell it. */
  sources?: boolean;
  /** A directory the resolver may fill (the caller removes it). */
  scratch: string;
  /** A directory kept between runs (in pinget's cache) where the resolver may keep the package manager's own caches. */
  stateRoot: string;
  log: Logger;
  signal?: AbortSignal;
}

export interface ResolveResult {
  entries: LockEntry[];
  /** distro, snapshot, manual, and any of the adapter's own. */
  headers: Record<string, string>;
  /** The packages the resolver chose, in the order it reported them. */
  packages: PackageRef[];
  /** With `sources` asked: each entry's source package, where the resolver's indexes say it (Debian's Source field). */
  sources?: (SourcePackage | undefined)[];
}

/** A request for the source packages of pinned binaries (`hash generate --sources`, `lock --sources`). */
export interface SourcesRequest {
  /** The root whose configuration (mirrors, keys) and package database are used. */
  root?: string;
  info: DistroInfo;
  /** The pinned binary package files. */
  binaries: LockEntry[];
  /** Each binary's source package where the caller knows it (lock's resolver); else the adapter reads the root. */
  sources?: (SourcePackage | undefined)[];
  /** Where the adapter fetches the source indexes through the fetch chain (rpm's source repositories). */
  fetcher?: IndexFetcher;
  /** `lock`'s base when it is an empty system: its mirrors stand in for a root's configuration. */
  empty?: EmptyBase;
  /** `lock --snapshot`: the source indexes as they were at this moment. */
  snapshot?: Date;
  allowUnsigned?: boolean;
  archive: ProviderContext;
  log: Logger;
}

export interface ProvidersOptions {
  log?: Logger;
  /** Also the repositories that serve source packages where they are not the binaries' (`download --sources`). */
  sources?: boolean;
}

export interface DistroAdapter {
  id: string;
  /** Magic bytes at the start of this distro's package files (for `hash inspect FILE`). */
  fileMagic?: Uint8Array;
  /** A local package file -> its lockfile path and package, from the file's own metadata. */
  inspectFile?(file: string): Promise<InspectedFile | undefined>;
  /** What `install --normalize` removes and keeps. */
  normalization?: Normalization;
  /** Optional: package names -> the files the distro's own resolver would install on the base (`pinget lock`). */
  resolve?(request: ResolveRequest): Promise<ResolveResult>;
  /**
   * false: this resolver re-hashes no large cached files (its indexes are fetched whole each run), so `lock`
   * boots no hash workers ahead of it; the few files it checks are hashed on the main thread (hashFile).
   */
  lockHashWorkers?: boolean;
  /** The native architecture of a root (for `lock --root` without `--arch`). */
  nativeArch?(root: string): Promise<string | undefined>;
  /** Returns info when <root>/etc/os-release names this distro (or one like it). */
  detect(root: string): Promise<DistroInfo | undefined>;
  /** Installed packages -> lockfile entries (hash and repository-relative path). */
  generate(root: string, info: DistroInfo, opts: GenerateOptions): Promise<GenerateResult>;
  /** Lockfile path -> package name, version and arch; undefined when the path is not a package of this distro. */
  inspect(path: string): PackageRef | undefined;
  /** The installed packages, for `hash verify` (needs no indexes). */
  installed(root: string, info: DistroInfo): Promise<PackageRef[]>;
  /** Provider schemes of this distro's own (mirror formats that need a lookup), used with its templates. */
  providerFactories?: ProviderFactory[];
  /** The mirrors configured in the root, as provider templates; the archives and the cache are added by the caller. */
  providers(root: string, info: DistroInfo, headers: Record<string, string>, opts?: ProvidersOptions): Promise<ProviderSpec[]>;
  /**
   * Optional: accepts a file whose whole-file hash differs from the pin when the distro can prove it
   * is the pinned package all the same (Alpine's re-signed packages). Returns a note for the user, or
   * undefined when it has no way to judge; throws INTEGRITY saying why when it judged and refused.
   */
  acceptMismatch?(path: string, file: string, headers: Record<string, string>): Promise<string | undefined>;
  /**
   * Optional: the version a lockfile pins for `ref` (from inspect) with what its headers add that the path cannot
   * say (rpm's epoch: Koji paths have none), in the form installed() gives; inspect's version when absent.
   */
  pinnedVersion?(ref: PackageRef, headers: Record<string, string>): string;
  /**
   * Optional: sets the package manager's manual/auto marks of the lockfile's packages from its `manual`
   * header (see src/manual-marks.ts); does nothing when the lockfile has no such header. `log` takes its warnings.
   */
  applyMarks?(root: string, info: DistroInfo, packages: PackageRef[], headers: Record<string, string>, log?: Logger): Promise<void>;
  /**
   * Optional: checks the installed files of these packages by content against what the package database
   * records (and, where the pinned file is at hand, against the pinned package itself), for `hash verify --deep`.
   */
  verifyFiles?(root: string, info: DistroInfo, pinned: PinnedInstalled[], opts: { log: Logger }): Promise<FileDrift[]>;
  /**
   * Optional: the packages installed at their pinned version whose package database records another
   * build than the pinned file (rpm's header SHA256, apk's `C:` identity), for `hash verify` and install's
   * skip check. Packages it cannot judge are left out.
   */
  buildDrift?(root: string, info: DistroInfo, pinned: PinnedInstalled[], headers: Record<string, string>, opts: { log: Logger }): Promise<BuildDrift[]>;
  /**
   * Optional: a verified file that install() will be given, as soon as it is verified: the adapter may start
   * reading what install() needs of it (Debian: the control fields) while the other files are still hashed.
   */
  readAhead?(file: string, path: string): void;
  /** Optional: how this distro's packages appear in an SBOM (purls, source packages); loaded on use. */
  sbomHooks?(): Promise<SbomHooks>;
  /**
   * Optional: what the root's package database knows of the pinned packages (epoch, source package, licence),
   * one element per ref, undefined where the package is not installed at exactly the pinned version.
   */
  installedFacts?(root: string, info: DistroInfo, pinned: PackageRef[]): Promise<(PackageFacts | undefined)[]>;
  /** Optional: the lockfile entries of the source packages the binaries were built from (`--sources`). */
  pinSources?(request: SourcesRequest): Promise<LockEntry[]>;
  /** Hands verified files to the distro's package manager, in one transaction. */
  install(files: LocalFile[], root: string, info: DistroInfo, opts: InstallOptions): Promise<InstallReport>;
}
