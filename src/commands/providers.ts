/** `pinget providers [FILE]`: the provider chain that would be used, in order. */
import type { Argv, CommandModule } from 'yargs';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { chooseDistro, loadLockfiles, makeProviders, providerSpecs, closeProviders } from './plan.js';

interface Args extends GlobalArgs {
  file?: string;
}

export const providersCommand: CommandModule<object, Args> = {
  command: 'providers [file]',
  describe: 'print the provider chain that would be used, in order',
  builder: (y: Argv) => withGlobalOptions(y).positional('file', { type: 'string', describe: 'a lockfile (its headers choose snapshot providers)' }) as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = args.file ? await loadLockfiles([args.file]) : undefined;
    const choice = await chooseDistro(ctx, lock, !lock).catch((e) => {
      if (args.provider?.length) return undefined;
      throw e;
    });
    const specs = await providerSpecs(ctx, choice, lock?.headers ?? {});
    await closeProviders(makeProviders(ctx, specs)); // reject unknown schemes now, not at install time
    const chain = [{ template: `cache: ${ctx.cache.dir}` }, ...specs];
    if (args.json) printJson({ distro: choice?.info, providers: [{ kind: 'cache', dir: ctx.cache.dir }, ...specs] });
    else chain.forEach((s, i) => process.stdout.write(`${i + 1}. ${s.template}\n`));
  },
};
