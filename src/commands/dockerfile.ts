/** `pinget dockerfile generate`: a Dockerfile that installs a lockfile reproducibly. */
import type { Argv, CommandModule } from 'yargs';
import { generateDockerfile } from '../dockerfile.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { loadLockfile } from './plan.js';

interface Args {
  lockfile: string;
  base?: string;
  'node-image'?: string;
  bundle: string;
  'cache-mount': boolean;
  output?: string;
}

const generate: CommandModule<object, Args> = {
  command: 'generate [lockfile]',
  describe: 'print a Dockerfile that installs LOCKFILE (default SHA256SUMS) with pinget, reproducibly',
  builder: (y: Argv) =>
    y
      .positional('lockfile', { type: 'string', default: 'SHA256SUMS', describe: 'lockfile, relative to the build context' })
      .option('base', { type: 'string', describe: "base image (default: from the lockfile's distro header; pin it by digest)" })
      .option('node-image', { type: 'string', describe: 'image to borrow the node binary from during the build' })
      .option('bundle', { type: 'string', default: 'pinget.mjs', describe: 'the single-file pinget (npm run bundle), relative to the build context' })
      .option('cache-mount', { type: 'boolean', default: true, describe: "keep pinget's cache in a BuildKit cache mount between builds" })
      .option('output', { alias: 'o', type: 'string', describe: 'write to FILE instead of stdout' }) as unknown as Argv<Args>,
  handler: async (args) => {
    const lock = await loadLockfile(args.lockfile);
    const text = generateDockerfile({
      lockfile: args.lockfile,
      headers: lock.headers,
      base: args.base,
      nodeImage: args['node-image'],
      bundle: args.bundle,
      cacheMount: args['cache-mount'],
    });
    if (args.output) await writeFileAtomic(args.output, text);
    else process.stdout.write(text);
  },
};

export const dockerfileCommand: CommandModule = {
  command: 'dockerfile <command>',
  describe: 'Dockerfiles that install lockfiles reproducibly',
  builder: (y: Argv) => y.command(generate).demandCommand(1),
  handler: () => {},
};
