/** `pinget hash generate|verify|update|inspect`. */
import type { Argv, CommandModule } from 'yargs';
import { hashGenerateCommand } from './hash-generate.js';
import { hashVerifyCommand } from './hash-verify.js';
import { hashUpdateCommand } from './hash-update.js';
import { hashInspectCommand } from './hash-inspect.js';

export const hashCommand: CommandModule = {
  command: 'hash <command>',
  describe: 'generate, verify, update or inspect lockfiles',
  builder: (y: Argv) =>
    y
      .command(hashGenerateCommand)
      .command(hashVerifyCommand)
      .command(hashUpdateCommand)
      .command(hashInspectCommand)
      .demandCommand(1, 'name a hash command: generate, verify, update or inspect')
      .recommendCommands(),
  handler: () => {},
};
