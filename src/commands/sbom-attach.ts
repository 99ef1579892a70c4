/**
 * `pinget sbom --attach oci://HOST/REPO:TAG`: the SBOM attached to an image (or any artifact) in a registry as
 * an OCI referrer, by `oras attach` (the referrers API where the registry has it, else the referrers tag
 * scheme, as oras decides). Credentials are oras's own.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOras } from '../fetch/oras.js';
import { parseOciTagRef, tagReference } from '../fetch/oci-ref.js';
import type { SbomFormat } from './sbom-run.js';

/** The artifact and media types scanners look for. */
export const SBOM_MEDIA_TYPES: Record<SbomFormat, string> = { cyclonedx: 'application/vnd.cyclonedx+json', spdx: 'application/spdx+json' };

/** Checks the reference before anything runs (exit 2 for a bad one). */
export function checkAttachRef(ref: string): void {
  parseOciTagRef(ref);
}

/** Attaches; returns the referrer manifest's digest. */
export async function attachSbom(ref: string, format: SbomFormat, text: string): Promise<string> {
  const repo = parseOciTagRef(ref);
  const target = tagReference(repo, repo.tag);
  const dir = await mkdtemp(join(tmpdir(), 'pinget-sbom-attach-'));
  try {
    const name = format === 'spdx' ? 'sbom.spdx.json' : 'sbom.cdx.json';
    await writeFile(join(dir, name), text);
    const type = SBOM_MEDIA_TYPES[format];
    const args = ['attach', ...(repo.plainHttp ? ['--plain-http'] : []), '--artifact-type', type, '--format', 'json', target, `${name}:${type}`];
    const res = await runOras(args, target, { cwd: dir });
    const out = JSON.parse(res.stdout) as { digest?: string; reference?: string };
    return out.digest ?? '';
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
