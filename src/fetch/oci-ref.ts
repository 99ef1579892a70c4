/**
 * OCI references for the oci:// provider and `cache push`, and the meaning of oras's error messages.
 * Pure: strings in, records out.
 */
import { PingetError } from '../errors.js';

export interface OciRepo {
  /** `host[:port]` as oras takes it. */
  registry: string;
  repository: string;
  /** true for `oci+http://` (registries without TLS): oras gets --plain-http. */
  plainHttp: boolean;
}

export interface OciTagRef extends OciRepo {
  tag: string;
}

const SCHEMES: Record<string, boolean> = { 'oci://': false, 'oci+https://': false, 'oci+http://': true };
// A host name or IPv4 address, or a bracketed IPv6 address, then an optional port.
const REGISTRY = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
// Repository names and tags as the OCI distribution spec defines them.
const REPOSITORY = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** The scheme of an OCI template, or undefined when the template is not one of ours. */
export function ociScheme(template: string): string | undefined {
  return Object.keys(SCHEMES).find((s) => template.toLowerCase().startsWith(s));
}

function splitRepo(template: string, what: string): OciRepo & { rest: string } {
  const scheme = ociScheme(template);
  if (!scheme) throw new PingetError('USAGE', `${what} "${template}" is not an OCI reference (expected oci://HOST[:PORT]/REPOSITORY or oci+http://...)`);
  const body = template.slice(scheme.length).replace(/\/+$/, '');
  const slash = body.indexOf('/');
  if (slash <= 0) throw new PingetError('USAGE', `${what} "${template}" names no repository (expected ${scheme}HOST[:PORT]/REPOSITORY)`);
  const registry = body.slice(0, slash);
  if (!REGISTRY.test(registry)) throw new PingetError('USAGE', `${what} "${template}": "${registry}" is not a registry host[:port]`);
  return { registry, repository: '', plainHttp: SCHEMES[scheme], rest: body.slice(slash + 1) };
}

function checkRepository(repository: string, template: string, what: string): void {
  if (!REPOSITORY.test(repository)) {
    throw new PingetError(
      'USAGE',
      `${what} "${template}": "${repository}" is not a valid repository name (lowercase letters, digits, separators . _ __ - and /)`,
    );
  }
}

/** `oci://HOST[:PORT]/REPOSITORY` (a provider: blobs are fetched by digest, so no tag). */
export function parseOciRepo(template: string): OciRepo {
  const { rest, ...repo } = splitRepo(template, 'provider');
  if (/[@:]/.test(rest)) {
    throw new PingetError('USAGE', `provider "${template}": give a repository without a tag or digest; blobs are fetched by the lockfile's sha256`);
  }
  checkRepository(rest, template, 'provider');
  return { ...repo, repository: rest };
}

/** `oci://HOST[:PORT]/REPOSITORY:TAG` (a push target). */
export function parseOciTagRef(ref: string): OciTagRef {
  const { rest, ...repo } = splitRepo(ref, 'push target');
  const colon = rest.lastIndexOf(':');
  if (colon < 0 || rest.includes('@')) {
    throw new PingetError('USAGE', `push target "${ref}" needs a tag: oci://HOST[:PORT]/REPOSITORY:TAG`);
  }
  const repository = rest.slice(0, colon);
  const tag = rest.slice(colon + 1);
  checkRepository(repository, ref, 'push target');
  if (!OCI_TAG.test(tag)) throw new PingetError('USAGE', `push target "${ref}": "${tag}" is not a valid tag (letters, digits, . _ -, at most 128)`);
  return { ...repo, repository, tag };
}

/** What oras and the registry take: `host:port/repo@sha256:hex`. */
export function blobReference(repo: OciRepo, sha256: string): string {
  return `${repo.registry}/${repo.repository}@sha256:${sha256}`;
}

export function tagReference(repo: OciRepo, tag: string): string {
  return `${repo.registry}/${repo.repository}:${tag}`;
}

export type OrasFailure = 'not-found' | 'auth' | 'unreachable' | 'tls' | 'integrity' | 'other';

/**
 * Classifies oras's stderr. oras (1.2) prints one `Error: ...` or `Error response from registry: ...`
 * line; the registry's own error codes (BLOB_UNKNOWN, NAME_UNKNOWN, UNAUTHORIZED, DENIED) surface
 * as their messages ("not found", "unauthorized: authentication required", "denied: ...").
 */
export function classifyOrasError(stderr: string): OrasFailure {
  // Drop quoted URLs and references first: a repository named "timeout" must not read as a timeout.
  const s = stderr
    .toLowerCase()
    .replace(/"[^"]*"/g, '""')
    .replace(/\S*@sha256:[0-9a-f]*/g, 'REF')
    .replace(/\[map\[[^\]]*\]\]/g, '');
  if (/mismatched digest|digest mismatch|content size mismatch/.test(s)) return 'integrity';
  if (/unauthorized|authentication required|credential|denied|forbidden|\b401\b|\b403\b/.test(s)) return 'auth';
  if (/server gave http response to https client|x509:|tls:|certificate/.test(s)) return 'tls';
  if (/connection refused|no such host|dial tcp|i\/o timeout|connection reset|network is unreachable|\beof\b|timeout/.test(s)) return 'unreachable';
  if (/not found|blob unknown|name unknown|manifest unknown|\b404\b/.test(s)) return 'not-found';
  return 'other';
}

/** The line worth showing: oras's last `Error...` line, without the prefix. */
export function orasErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('WARNING'));
  const err = [...lines].reverse().find((l) => /^error/i.test(l)) ?? lines[lines.length - 1] ?? '';
  return err.replace(/^Error:\s*/, '');
}
