/**
 * Install-time signature policy for pacman packages. Each package is checked with its `.sig` (a lockfile
 * entry like any other, so its bytes are already verified against the lockfile) against the root's pacman
 * keyring before pacman -U sees it. A package the lockfile gives no `.sig` for installs only when the
 * user said --allow-unsigned or when pacman itself requires package signatures for -U (LocalFileSigLevel).
 */
import { readFile } from 'node:fs/promises';
import { PingetError } from '../../src/errors.js';
import type { Logger } from '../../src/ui/log.js';
import type { LocalFile, PackageRef } from '../../src/distro/types.js';
import { localFilePackageSigLevel } from './pacman-conf.js';
import type { PacmanRoot } from './pacman-root.js';
import { loadPacmanKeyring, verifyDetachedSig } from './signatures.js';

export interface PackageToInstall {
  file: LocalFile;
  /** Package file name. */
  name: string;
  ref: PackageRef;
}

const label = (p: PackageToInstall) => `${p.ref.name} ${p.ref.version}`;

export async function checkPackageSignatures(
  todo: PackageToInstall[],
  sigs: Map<string, LocalFile>,
  pr: PacmanRoot,
  opts: { allowUnsigned?: boolean; log: Logger },
): Promise<void> {
  const unsigned = todo.filter((p) => !sigs.has(p.name));
  const signed = todo.filter((p) => sigs.has(p.name));
  if (unsigned.length > 0) {
    const names = unsigned.map(label).join(', ');
    if (opts.allowUnsigned) {
      opts.log.warn(`--allow-unsigned: installing ${unsigned.length} package${unsigned.length === 1 ? '' : 's'} the lockfile gives no .sig for, unchecked: ${names}`);
    } else if (localFilePackageSigLevel(pr.conf) === 'Required') {
      opts.log.info(`no .sig in the lockfile for ${names}; pacman checks package signatures itself (LocalFileSigLevel requires them)`);
    } else {
      throw new PingetError(
        'INTEGRITY',
        `no .sig in the lockfile for ${names}, and pacman would not check ${unsigned.length === 1 ? 'its signature' : 'their signatures'} ` +
          `(LocalFileSigLevel is not Required); regenerate the lockfile with hash generate (it pins each package's signature from the sync database), ` +
          `set LocalFileSigLevel = Required in the root's pacman.conf, or pass --allow-unsigned`,
      );
    }
  }
  if (signed.length === 0 || opts.allowUnsigned) return;
  const keys = await loadPacmanKeyring(pr.gpgDir);
  if (keys.length === 0) {
    throw new PingetError(
      'INTEGRITY',
      `${signed.map(label).join(', ')}: signed, but ${pr.gpgDir}/pubring.gpg has no keys to check the signatures; run pacman-key --init && pacman-key --populate in the root, or pass --allow-unsigned`,
    );
  }
  for (const p of signed) {
    const sig = sigs.get(p.name)!;
    try {
      await verifyDetachedSig(await readFile(p.file.file), await readFile(sig.file), keys, `${p.file.entry.path}.sig`);
    } catch (e) {
      if (e instanceof PingetError) throw new PingetError(e.code, `package ${label(p)} NOT installed: ${e.message}`, { cause: e });
      throw e;
    }
  }
}
