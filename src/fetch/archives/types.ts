/**
 * The resolver conventions shared by every snapshot archive (Debian, Ubuntu, Arch, ...).
 *
 * A resolver is a Provider for an archive that needs a lookup or a date before it can name a file.
 * Its template is `<name>+<base URL>`, e.g. `debian-snapshot+https://snapshot.debian.org`, so a chain
 * stays a list of strings that `pinget providers` prints and `--provider` accepts. A resolver reads
 * the package behind a path from `target.ref` (name, version, arch: the adapter's inspect()) and the
 * lockfile's `snapshot` header from `target.headers`. It never trusts what the archive says about a
 * file: the chain hashes every byte against the lockfile's sha256.
 */
import { PingetError, type ErrorCode } from '../../errors.js';
import type { Provider, ProviderContext, ProviderFactory } from '../types.js';

/** `name+https://base` -> name and base (no trailing slash); undefined for other templates. */
export function parseResolverTemplate(template: string): { name: string; base: string } | undefined {
  const m = /^([a-z][a-z0-9-]*)\+(https?:\/\/[^\s{}]+)$/.exec(template);
  if (!m) return undefined;
  return { name: m[1], base: m[2].replace(/\/+$/, '') };
}

export function resolverTemplate(name: string, base: string): string {
  return `${name}+${base.replace(/\/+$/, '')}`;
}

/** What each archive module exports: its name, default base URL, and how to make its provider. */
export interface ArchiveResolver {
  /** Scheme prefix and the key of `--archive-url NAME=URL`. */
  name: string;
  defaultBase: string;
  create(base: string, ctx: ProviderContext): Provider;
}

/** A ProviderFactory (for src/fetch/providers.ts) that claims `<resolver.name>+http(s)://...` templates. */
export function resolverFactory(resolver: ArchiveResolver): ProviderFactory {
  return (template, ctx) => {
    const parsed = parseResolverTemplate(template);
    if (!parsed || parsed.name !== resolver.name) return undefined;
    return resolver.create(parsed.base, ctx);
  };
}

/**
 * The lockfile's `snapshot` header as the archives' timestamp form `YYYYMMDDTHHMMSSZ` (UTC).
 * Accepts ISO 8601 (`2026-11-20T00:00:00Z`, what `hash generate` writes), the archive form itself,
 * and a bare number of seconds since the epoch (a SOURCE_DATE_EPOCH pasted as is).
 * Undefined when absent or unreadable.
 */
export function snapshotTimestamp(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d{8}T\d{6}Z$/.test(value)) return value;
  let ms: number;
  if (/^\d{1,12}$/.test(value)) ms = Number(value) * 1000;
  else if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
    // A date without a zone is UTC here, never the local zone: lockfiles travel.
    const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value) || value.length === 10 ? value : `${value}Z`;
    ms = Date.parse(zoned.replace(' ', 'T'));
  } else return undefined;
  if (!Number.isFinite(ms)) return undefined;
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** The lockfile's architecture: the `arch` header, else the last word of `distro: debian 12 (bookworm) amd64`. */
export function lockfileArch(headers: Record<string, string>): string | undefined {
  if (headers.arch) return headers.arch.trim();
  const words = headers.distro?.trim().split(/\s+/);
  return words && words.length > 1 ? words[words.length - 1] : undefined;
}

/**
 * Collects why each URL a resolver tried failed, and builds the one error the chain records for it:
 * UNAVAILABLE when any try failed for network reasons (trying later may help), NOT_FOUND otherwise.
 */
export class Attempts {
  private readonly reasons: string[] = [];
  private code: ErrorCode = 'NOT_FOUND';

  constructor(private readonly label: string) {}

  add(what: string, e: unknown): void {
    const err = e instanceof PingetError ? e : undefined;
    if (err && err.code !== 'NOT_FOUND') this.code = 'UNAVAILABLE';
    if (!err) this.code = 'UNAVAILABLE';
    this.reasons.push(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }

  note(reason: string): void {
    this.reasons.push(reason);
  }

  get count(): number {
    return this.reasons.length;
  }

  error(path: string): PingetError {
    const summary = this.reasons.length > 0 ? this.reasons.join('; ') : 'nothing to try';
    return new PingetError(this.code, `${this.label}: ${path}: ${summary}`, { details: [...this.reasons] });
  }
}
