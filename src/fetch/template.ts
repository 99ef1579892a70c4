/**
 * Provider URL templates, repro-get compatible: Go-template placeholders `{{.Name}}` (the lockfile path),
 * `{{.Basename}}`, `{{.SHA256}}` and `{{.CID}}`, with optional spaces inside the braces (`{{ .Name }}`).
 * A template without any placeholder is a base URL: `/{{.Name}}` is appended. `{{.CID}}` is the lockfile's
 * `/ipfs/` line for the hash, else the raw-leaf CIDv1 derived from the sha256 (as the ipfs:// provider does).
 */
import { PingetError } from '../errors.js';
import { rawLeafCid } from './raw-leaf-cid.js';
import type { FetchTarget } from './types.js';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN = ['.Name', '.Basename', '.SHA256', '.CID'] as const;
type Known = (typeof KNOWN)[number];

/** The placeholders a template uses; a USAGE error naming the template for any unknown one. */
export function templatePlaceholders(template: string): Known[] {
  const found: Known[] = [];
  for (const m of template.matchAll(PLACEHOLDER)) {
    const name = m[1];
    if (!(KNOWN as readonly string[]).includes(name)) {
      throw new PingetError(
        'USAGE',
        `provider template "${template}": unknown placeholder {{${name}}} (known: ${KNOWN.map((k) => `{{${k}}}`).join(', ')})`,
      );
    }
    found.push(name as Known);
  }
  // A brace pair the regex did not take (e.g. "{{.Name}" or "{{{") is a typo, not a literal.
  const rest = template.replace(PLACEHOLDER, '');
  if (rest.includes('{{') || rest.includes('}}')) {
    throw new PingetError('USAGE', `provider template "${template}": unbalanced "{{" or "}}"`);
  }
  return found;
}

/** Adds `/{{.Name}}` to a template that has no placeholder (a base URL); checks the placeholders. */
export function normalizeTemplate(template: string): string {
  if (templatePlaceholders(template).length > 0) return template;
  return `${template.replace(/\/+$/, '')}/{{.Name}}`;
}

/**
 * Percent-encodes one path segment the way apt quotes archive URIs (apt-pkg/contrib/strutl.cc QuoteString):
 * unreserved characters and `+` stay literal (mirrors and apt itself send `+` as is), everything else
 * becomes lowercase `%xx` of its UTF-8 bytes, so the epoch colon of `1:2.3+dfsg` is sent as `%3a`.
 */
export function encodeSegment(segment: string): string {
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~+]/.test(c)) out += c;
    else out += `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function encodePath(path: string): string {
  return path.split('/').map(encodeSegment).join('/');
}

export function expandTemplate(template: string, target: FetchTarget): string {
  const full = normalizeTemplate(template);
  return full.replace(PLACEHOLDER, (_m, name: string) => {
    switch (name as Known) {
      case '.Name':
        return encodePath(target.path);
      case '.Basename':
        return encodeSegment(target.path.slice(target.path.lastIndexOf('/') + 1));
      case '.SHA256':
        return target.sha256;
      case '.CID':
        // Without an /ipfs/ line: the raw-leaf CIDv1 of the sha256, right for a file added as one raw block
        // (every file up to 1 MiB under `cache push ipfs`'s settings); a gateway answers 404 for the others.
        return encodeSegment(target.cid ?? rawLeafCid(target.sha256));
    }
    throw new PingetError('USAGE', `provider template "${template}": unknown placeholder {{${name}}}`);
  });
}
