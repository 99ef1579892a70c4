/** `pinget info`: what pinget would work with here: version, distro of --root, cache, provider chain, Node. */
import type { Argv, CommandModule } from 'yargs';
import { pingetVersion } from '../version.js';
import { makeContext, printJson, withGlobalOptions, type GlobalArgs } from './context.js';
import { chooseTarget, providerSpecs } from './plan.js';
import { example } from './help-examples.js';
import { archiveDistros } from '../fetch/archives/index.js';

export const infoCommand: CommandModule<object, GlobalArgs> = {
  command: 'info',
  describe: 'show the version, the distro of --root, the cache and the provider chain',
  builder: (y: Argv) => withGlobalOptions(y.example(example('$0 info --root /mnt/image --json', 'as JSON, for a mounted root'))) as unknown as Argv<GlobalArgs>,
  handler: async (args) => {
    const ctx = makeContext(args);
    const { ADAPTERS } = await import('../distro-registry.js');
    const choice = await chooseTarget(ctx, undefined, [], true).catch((e: Error) => ({ error: e.message }));
    const distro = 'error' in choice ? undefined : choice.info;
    const providers = 'error' in choice ? [] : await providerSpecs(ctx, choice, {});
    const result = {
      version: pingetVersion(),
      node: process.version,
      root: args.root,
      distro: distro ?? null,
      distroError: 'error' in choice ? choice.error : undefined,
      distros: [...new Set([...ADAPTERS.map((a) => a.id), ...archiveDistros()])].sort(),
      cache: { dir: ctx.cache.dir },
      providers: [{ kind: 'cache', dir: ctx.cache.dir }, ...providers.map((p) => ({ kind: 'template', template: p.template, label: p.label }))],
    };
    if (args.json) return printJson(result);
    const w = (line: string) => process.stdout.write(`${line}\n`);
    w(`pinget ${result.version} on Node.js ${result.node}`);
    w(`root: ${args.root}`);
    w(`distro: ${distro ? [distro.osId, distro.versionId, distro.codename && `(${distro.codename})`, distro.arch].filter(Boolean).join(' ') + ` (adapter ${distro.id})` : `unknown: ${result.distroError}`}`);
    w(`known distros: ${result.distros.join(', ')}`);
    w(`cache: ${ctx.cache.dir}`);
    w('providers:');
    w(`  1. cache: ${ctx.cache.dir}`);
    providers.forEach((p, i) => w(`  ${i + 2}. ${p.template}`));
  },
};
