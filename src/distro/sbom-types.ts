/**
 * What an SBOM needs to know of a distro (`pinget sbom`): how the purl spec and the scanners name its
 * packages, and what a lockfile path or the root's package database says beyond name, version and arch.
 * Each distro folder implements SbomHooks; the core builds and parses the purls (packageurl-js).
 */
import type { PackageRef } from './package-ref.js';

/** A purl's parts before encoding (packageurl-js encodes and normalizes them). */
export interface PurlParts {
  type: string;
  namespace?: string;
  name: string;
  version?: string;
  qualifiers?: Record<string, string>;
}

/** The system a lockfile was made on, as its `distro` header says: os-release ID and VERSION_ID. */
export interface SbomSystem {
  osId: string;
  versionId?: string;
}

export interface SourcePackage {
  name: string;
  /** Only when known for certain (a path or the package database says it); never guessed. */
  version?: string;
}

/** What is known of a pinned package beyond its lockfile path's name, version and arch. */
export interface PackageFacts {
  /** The epoch, where the distro has one and the path drops it (Debian's pool names, Koji paths). */
  epoch?: string;
  source?: SourcePackage;
  /** The licence as the package declares it (not yet checked as an SPDX expression). */
  licence?: string;
}

export interface SbomHooks {
  /** The purl of a binary package; `epoch` as PackageFacts has it. */
  purl(ref: PackageRef, system: SbomSystem, epoch?: string): PurlParts;
  /** The purl of a source package. */
  sourcePurl(source: SourcePackage, system: SbomSystem): PurlParts;
  /** The version as the distro writes it in full (`1:2.36-9` for an epoch). */
  fullVersion(ref: PackageRef, epoch?: string): string;
  /** What the lockfile path itself says (the source package of a Debian pool path or a Koji path). */
  pathFacts(path: string, ref: PackageRef): PackageFacts;
  /**
   * A lockfile path that pins a source package's file (a `.dsc`, an `.orig.tar.*`, a `.src.rpm`): the source
   * package it belongs to, with its version where the path tells it; undefined for anything else.
   */
  sourceFile?(path: string): SourcePackage | undefined;
}
