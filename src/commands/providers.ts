/** `pinget providers [FILE]`: the provider chain that would be used, in order. */
import type { Argv, CommandModule } from 'yargs';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { PingetError } from '../errors.js';
import { chooseTarget, loadLockfiles, makeProviders, providerSpecs, closeProviders } from './plan.js';
import { example } from './help-examples.js';

interface Args extends GlobalArgs {
  file?: string;
}

export const providersCommand: CommandModule<object, Args> = {
  command: 'providers [file]',
  describe: 'print the provider chain that would be used, in order',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('file', { type: 'string', describe: 'a lockfile: shows the chain `pinget install FILE` would use (its headers choose snapshot providers)' })
        .example(example('$0 providers SHA256SUMS-amd64', 'where install would look, in order')),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const lock = args.file ? await loadLockfiles([args.file]) : undefined;
    // The same choice as install's, so the chain shown is the chain used.
    const choice = await chooseTarget(ctx, lock, args.file ? [args.file] : [], true).catch((e) => {
      if (ctx.args.provider?.length && e instanceof PingetError && e.code === 'BAD_INPUT') return undefined;
      throw e;
    });
    const specs = await providerSpecs(ctx, choice, lock?.headers ?? {});
    await closeProviders(await makeProviders(ctx, specs)); // reject unknown schemes now, not at install time
    const chain = [{ template: `cache: ${ctx.cache.dir}` }, ...specs];
    if (args.json) printJson({ distro: choice?.info, providers: [{ kind: 'cache', dir: ctx.cache.dir }, ...specs.map((s) => ({ kind: 'template', template: s.template, label: s.label }))] });
    else chain.forEach((s, i) => process.stdout.write(`${i + 1}. ${s.template}\n`));
  },
};
