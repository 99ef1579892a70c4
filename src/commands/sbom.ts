/** `pinget sbom FILE`: a CycloneDX 1.6 or SPDX 2.3 JSON SBOM of a lockfile (see docs/sbom.md). */
import type { Argv, CommandModule } from 'yargs';
import { PingetError } from '../errors.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { createLogger } from '../ui/log.js';
import { printJson, withOutputOptions } from './context.js';
import { checkOutputFile } from './preflight.js';
import { makeSbom, SBOM_FORMATS, type SbomFormat } from './sbom-run.js';

interface Args {
  file: string;
  format: SbomFormat;
  root?: string;
  image?: string;
  output?: string;
  attach?: string;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
}

export const sbomCommand: CommandModule<object, Args> = {
  command: 'sbom <file>',
  describe: 'write an SBOM of a lockfile: CycloneDX 1.6 or SPDX 2.3 JSON, one component per pinned package, with purls',
  builder: (y: Argv) =>
    withOutputOptions(
      y
        .positional('file', { type: 'string', describe: 'the lockfile (- for stdin)' })
        .option('format', { choices: SBOM_FORMATS, default: 'cyclonedx' as SbomFormat, describe: 'cyclonedx (1.6 JSON) or spdx (2.3 JSON) (default: cyclonedx)' })
        .option('root', { type: 'string', requiresArg: true, describe: "a root whose package database adds what it knows (epoch, source package, licence) of packages installed at the pinned versions" })
        .option('image', { type: 'string', requiresArg: true, describe: 'the same from an image: an OCI image layout DIR or a docker/podman save FILE' })
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE (atomically) instead of stdout' })
        .option('attach', { type: 'string', requiresArg: true, describe: 'also attach the SBOM to oci://HOST/REPO:TAG (oci+http:// without TLS) as an OCI referrer, with oras' })
        .example('$0 sbom SHA256SUMS-amd64 --attach oci://registry.example/app:1.0', 'attach it to the image it describes')
        .example('$0 sbom SHA256SUMS-amd64 --format spdx -o sbom.spdx.json', 'an SPDX SBOM of a lockfile')
        .example('$0 sbom SHA256SUMS-amd64 --root /mnt/image', 'CycloneDX, with source packages and epochs from the root'),
    ) as unknown as Argv<Args>,
  handler: async (args) => {
    const log = createLogger({ quiet: args.quiet || args.json, verbose: args.verbose });
    if (args.root && args.image) throw new PingetError('USAGE', '--image and --root name two systems; give one');
    if (args.output) await checkOutputFile(args.output);
    const attach = args.attach ? await import('./sbom-attach.js') : undefined;
    if (args.attach) attach!.checkAttachRef(args.attach);
    const run = async (root?: string) => {
      const result = await makeSbom({ file: args.file, format: args.format, root, log });
      if (args.output) {
        await writeFileAtomic(args.output, result.text);
        log.info(`wrote ${args.format} SBOM of ${result.packages} packages to ${args.output}`);
      }
      const attached = args.attach ? await attach!.attachSbom(args.attach, args.format, result.text) : undefined;
      if (attached !== undefined) log.info(`attached to ${args.attach} as referrer ${attached}`);
      const quiet = !!args.output;
      if (args.json) printJson({ format: args.format, file: args.output, attached, packages: result.packages, sources: result.sources, files: result.files, ...(quiet ? {} : { sbom: JSON.parse(result.text) }) });
      else if (!quiet) process.stdout.write(result.text);
    };
    if (!args.image) return run(args.root);
    const { withImageRoot } = await import('../image/index.js');
    await withImageRoot(args.image, log, (root) => run(root));
  },
};
