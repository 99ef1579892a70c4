/**
 * `pinget hash inspect FILE...`: the lockfile line of local package files (`<sha256>  <repository path>`),
 * the path as the distro's archive lays it out where the package's own metadata tells it (Debian pool,
 * Koji); else the file name. A lockfile given instead is listed entry by entry, as repro-get's inspect does.
 */
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { readHead } from '../fs-safe.js';
import { sha256File } from '../verify/sha256.js';
import { printJson, withOutputOptions } from './context.js';
import { loadLockfile } from './plan.js';
import { example } from './help-examples.js';

interface Args {
  files: string[];
  json: boolean;
}

interface Inspected {
  file: string;
  sha256: string;
  path: string;
  name?: string;
  version?: string;
  arch?: string;
}

async function inspectPackage(file: string, head: Buffer): Promise<Inspected> {
  const sha256 = await sha256File(file);
  const { adapterForFile, adapterForPath } = await import('../distro-registry.js');
  // The distro's own tool reads the package's metadata where the adapter has one (dpkg-deb, rpm).
  const known = await adapterForFile(head)?.inspectFile?.(file);
  const path = known?.path ?? basename(file);
  const ref = known ?? adapterForPath(path)?.inspect(path);
  return { file, sha256, path, name: ref?.name, version: ref?.version, arch: ref?.arch };
}

const PACKAGE_MAGIC = [
  Buffer.from('!<arch>'), // .deb
  Buffer.from([0xed, 0xab, 0xee, 0xdb]), // .rpm
  Buffer.from([0x1f, 0x8b]), // .apk (gzip)
  Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), // .pkg.tar.zst
  Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a]), // .pkg.tar.xz
];

export const hashInspectCommand: CommandModule<object, Args> = {
  command: 'inspect <files..>',
  describe: 'print the lockfile line of local package files (or list the entries of a lockfile)',
  builder: (y: Argv) =>
    withOutputOptions(
      y
        .positional('files', { type: 'string', describe: 'package files (.deb, .rpm, .apk, .pkg.tar.zst) or lockfiles' })
        .example(example('$0 hash inspect hello_2.10-3_amd64.deb >> SHA256SUMS-amd64', 'pin a package file you have')),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const out: Inspected[] = [];
    const { adapterForPath } = await import('../distro-registry.js');
    for (const file of args.files) {
      const head = file === '/dev/stdin' ? Buffer.alloc(0) : await readHead(file, 8);
      if (PACKAGE_MAGIC.some((m) => head.subarray(0, m.length).equals(m))) {
        out.push(await inspectPackage(file, head));
        continue;
      }
      const lock = await loadLockfile(file).catch((e) => {
        throw new PingetError('BAD_INPUT', `${file}: neither a package file pinget knows (.deb, .rpm, .apk, .pkg.tar.*) nor a lockfile: ${(e as Error).message}`);
      });
      for (const e of lock.entries) {
        const ref = adapterForPath(e.path)?.inspect(e.path);
        out.push({ file, sha256: e.sha256, path: e.path, name: ref?.name, version: ref?.version, arch: ref?.arch });
      }
    }
    if (args.json) printJson({ files: out });
    else for (const i of out) process.stdout.write(`${i.sha256}  ${i.path}\n`);
  },
};
