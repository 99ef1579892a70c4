/** `pinget hash generate|verify|update`. */
import type { Argv, CommandModule } from 'yargs';
import { hashGenerateCommand } from './hash-generate.js';
import { hashVerifyCommand } from './hash-verify.js';
import { hashUpdateCommand } from './hash-update.js';

export const hashCommand: CommandModule = {
  command: 'hash <command>',
  describe: 'generate, verify or update lockfiles',
  builder: (y: Argv) => y.command(hashGenerateCommand).command(hashVerifyCommand).command(hashUpdateCommand).demandCommand(1),
  handler: () => {},
};
