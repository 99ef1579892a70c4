// The real apk-tools built by .ci/setup.d/40-apk-tools.sh from ../shared/vendor/ (Debian does not package apk):
// apk 2.14 and apk 3.0, each reached through a wrapper in tmp/vendor/bin/. `apkPathDir` gives a directory to put
// first on PATH so that the chosen generation runs as plain `apk`, as pinget calls it.
import { access, constants, mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ApkGeneration = 2 | 3;

const vendorBin = resolve(dirname(fileURLToPath(import.meta.url)), '../../tmp/vendor/bin');

export const apkBuildHint = 'apk-tools is built from ../shared/vendor/ by `bash .ci/setup.d/40-apk-tools.sh` (run `npm run setup:test`)';

/** The wrapper of the built apk of that generation, or undefined when it has not been built. */
export async function realApk(generation: ApkGeneration): Promise<string | undefined> {
  const wrapper = join(vendorBin, `apk${generation}`);
  return access(wrapper, constants.X_OK).then(() => wrapper, () => undefined);
}

/** A fresh directory (under `parent`, or the system's temp dir) holding `apk` -> that generation's wrapper. */
export async function apkPathDir(generation: ApkGeneration, parent = tmpdir()): Promise<string | undefined> {
  const wrapper = await realApk(generation);
  if (wrapper === undefined) return undefined;
  const dir = await mkdtemp(join(parent, `apk${generation}-path-`));
  await symlink(wrapper, join(dir, 'apk'));
  return dir;
}
