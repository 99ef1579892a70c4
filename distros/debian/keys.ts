/**
 * Which OpenPGP keys apt would use for a source: its Signed-By (key files, fingerprints, or an inline key
 * block), else every keyring in etc/apt/trusted.gpg.d/ and etc/apt/trusted.gpg (sources.list(5), apt-secure(8)).
 * Paths are taken inside <root>.
 */
import { readdir } from 'node:fs/promises';
import type { Logger } from '../../src/ui/log.js';
import { keysFromArmored, loadKeys, type PublicKey } from '../../src/verify/openpgp.js';
import { PingetError } from '../../src/errors.js';
import { resolveInRoot } from '../../src/root-path.js';

export class KeyResolver {
  private readonly cache = new Map<string, Promise<PublicKey[]>>();

  constructor(
    private readonly root: string,
    private readonly log: Logger,
  ) {}

  private async defaultFiles(): Promise<string[]> {
    // keyrings there are often links to /usr/share/keyrings: the root's, followed inside it
    const names = (await readdir(resolveInRoot(this.root, 'etc/apt/trusted.gpg.d')).catch(() => [] as string[])).filter((n) => n.endsWith('.gpg') || n.endsWith('.asc')).sort();
    return [...names.map((n) => resolveInRoot(this.root, `etc/apt/trusted.gpg.d/${n}`)), resolveInRoot(this.root, 'etc/apt/trusted.gpg')];
  }

  private load(files: string[]): Promise<PublicKey[]> {
    return loadKeys(files, (file, reason) => {
      if (!/ENOENT/.test(reason)) this.log.verbose(`skipping keyring ${file}: ${reason}`);
    });
  }

  /** Keys for a Signed-By value (undefined: apt's default trusted keyrings). */
  keysFor(signedBy: string | undefined, origin = ''): Promise<PublicKey[]> {
    const id = signedBy ?? '';
    let p = this.cache.get(id);
    if (!p) {
      p = this.resolve(signedBy, origin);
      this.cache.set(id, p);
    }
    return p;
  }

  private async resolve(signedBy: string | undefined, origin: string): Promise<PublicKey[]> {
    if (!signedBy) return this.load(await this.defaultFiles());
    if (signedBy.includes('-----BEGIN PGP')) {
      try {
        return await keysFromArmored(signedBy);
      } catch (e) {
        throw new PingetError('BAD_INPUT', `${origin}: unreadable inline Signed-By key (${(e as Error).message}); fix the source entry`);
      }
    }
    const items = signedBy.split(/\s+/).filter(Boolean);
    const files = items.filter((i) => i.includes('/')).map((f) => resolveInRoot(this.root, f));
    const fingerprints = items.filter((i) => !i.includes('/')).map((i) => i.replace(/!$/, '').toLowerCase());
    const keys = files.length ? await this.load(files) : [];
    if (fingerprints.length) {
      const pool = files.length ? keys : await this.load(await this.defaultFiles());
      return pool.filter((k) => fingerprints.some((fp) => k.getKeys().some((sub) => sub.getFingerprint().endsWith(fp))));
    }
    return keys;
  }
}
