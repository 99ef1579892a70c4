/** `pinget lock NAME...`: a lockfile from package names, resolved by the distro's own package manager. */
import type { Argv, CommandModule } from 'yargs';
import { repeatable, withGlobalOptions } from './context.js';
import { example } from './help-examples.js';
import type { LockArgs } from './lock-inputs.js';


export const lockCommand: CommandModule<object, LockArgs> = {
  command: 'lock [names..]',
  describe: 'resolve package names into a lockfile, as the distro\'s package manager would install them on a base',
  builder: (y: Argv) =>
    withGlobalOptions(
      y
        .positional('names', { type: 'string', describe: 'package names: name, name=version, name/release' })
        .example(example('$0 lock hello curl --root base-rootfs -o SHA256SUMS-amd64', 'what apt-get install would add to this root'))
        .example(example("$0 lock hello --image base.oci --arch amd64,arm64 -o 'SHA256SUMS-{arch}'", 'one lockfile per architecture'))
        .example(example('$0 lock -f packages.txt --distro debian:bookworm --snapshot 2026-11-20 -o SHA256SUMS-amd64', 'from an empty system, as the archive was that day'))
        .example(example('$0 lock --update SHA256SUMS-amd64 --root base-rootfs', 're-resolve the same names today (exit 1 when it changed)'))
        .option('file', { alias: 'f', type: 'string', requiresArg: true, describe: 'read package names from FILE (one per line, # comments)' })
        .option('image', { type: 'string', requiresArg: true, describe: 'the base is this image: an OCI image layout DIR or a docker/podman save FILE' })
        .option('arch', { type: 'string', requiresArg: true, describe: 'architectures to resolve for, comma-separated (default: the base\'s)' })
        .option('snapshot', { type: 'string', requiresArg: true, describe: 'resolve against the snapshot archive as it was at DATE (YYYY-MM-DD or ISO 8601, UTC)' })
        .option('install-recommends', { type: 'boolean', default: true, describe: 'follow Recommends (--no-install-recommends: do not)' })
        .option('target-release', { alias: 't', type: 'string', requiresArg: true, describe: 'default release to take packages from (apt-get -t)' })
        .option('mirror', repeatable('with --distro NAME:RELEASE: a mirror base URI (Debian, Ubuntu default: this host\'s mirrors of that distro; Fedora: an rpm-md repository URL); repeatable'))
        .option('sources', { type: 'boolean', default: false, describe: 'also pin the source packages of what is locked (Debian: each .dsc and its files; rpm: each .src.rpm from the [*-source] repositories)' })
        .option('keyring', repeatable('with --distro arch:rolling or fedora:RELEASE: a FILE of OpenPGP public keys that sign the repositories\' databases (Arch) or repomd.xml (Fedora); repeatable'))
        .option('dedupe', repeatable("drop entries a base image's lockfile FILE pins, and record it (dedupe-base header); repeatable"))
        .option('update', { type: 'string', requiresArg: true, describe: 're-resolve the names LOCKFILE was made from; rewrite it only when it changes (exit 1)' })
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE ({arch} is replaced), or SHA256SUMS-<arch> in a directory' }),
    ).describe('distro', 'NAME:RELEASE (debian:bookworm, ubuntu:noble, arch:rolling, fedora:40): start from an empty system of that release; a bare id forces the adapter as elsewhere') as unknown as Argv<LockArgs>,
  handler: async (args) => (await import('./lock-run.js')).runLock(args),
};
