/** `pinget ipfs push FILE`: repro-get's spelling of `pinget cache push ipfs FILE` (the same handler). */
import type { Argv, CommandModule } from 'yargs';
import { push } from './cache.js';
import { withGlobalOptions } from './context.js';
import { example } from './help-examples.js';

type PushArgs = Parameters<NonNullable<typeof push.handler>>[0];

const ipfsPush: CommandModule<object, PushArgs> = {
  command: 'push <lockfile>',
  describe: 'same as `pinget cache push ipfs LOCKFILE`: add and pin its files on IPFS, write their /ipfs/ lines into it',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('lockfile', { type: 'string', describe: 'the lockfile whose files are added; its /ipfs/ lines are written back into it' })
        .example(example('$0 ipfs push SHA256SUMS-amd64 --ipfs-api 127.0.0.1:5001', "repro-get's spelling")),
    ) as unknown as Argv<PushArgs>,
  handler: (args) => push.handler({ ...args, url: 'ipfs' }),
};

export const ipfsCommand: CommandModule = {
  command: 'ipfs <command>',
  describe: "repro-get's ipfs push (see cache push)",
  builder: (y: Argv) => y.command(ipfsPush).demandCommand(1).recommendCommands(),
  handler: () => {},
};
