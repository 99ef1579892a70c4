/**
 * Roots around the real package databases of testdata/real-db (other projects' public test data, see the
 * PROVENANCE.md there), and a fingerprint of a whole tree to show that reading a root changed nothing in it.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cp, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const REAL = join(REPO_ROOT, 'testdata/real-db');

export type RootKind = 'dpkg' | 'distroless' | 'apk' | 'wolfi' | 'rpm-sqlite' | 'rpm-bdb' | 'ndb' | 'pacman';

/** Where each kind keeps the one database file the damage tests cut and flip. */
export const DB_FILE: Record<RootKind, string> = {
  dpkg: 'var/lib/dpkg/status',
  distroless: 'var/lib/dpkg/status.d/libsqlite3-0',
  apk: 'lib/apk/db/installed',
  wolfi: 'usr/lib/apk/db/installed',
  'rpm-sqlite': 'var/lib/rpm/rpmdb.sqlite',
  'rpm-bdb': 'var/lib/rpm/Packages',
  ndb: 'usr/lib/sysimage/rpm/Packages.db',
  pacman: 'var/lib/pacman/local/pacman-6.0.1-5/desc',
};

// os-release texts written here are the distros' own for the release the data comes from.
const UBUNTU_1804 = 'NAME="Ubuntu"\nVERSION="18.04.1 LTS (Bionic Beaver)"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\nUBUNTU_CODENAME=bionic\n';
const DEBIAN_12 = 'PRETTY_NAME="Distroless"\nNAME="Debian GNU/Linux"\nID="debian"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.16.2\nPRETTY_NAME="Alpine Linux v3.16"\n';
const CENTOS_8 = 'NAME="CentOS Linux"\nVERSION="8"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="8"\n';
const ARCH = 'NAME="Arch Linux"\nPRETTY_NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n';

/** The PROVENANCE.md beside the data is ours, not the database's. */
const notProvenance = (src: string) => !src.endsWith('/PROVENANCE.md');

async function put(root: string, rel: string, data: string | Buffer): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), data);
}

/** The databases are kept xz-compressed; xz-utils is in .ci/apt-packages. */
async function unxz(file: string): Promise<Buffer> {
  return execFileSync('xz', ['-dc', file], { maxBuffer: 64 << 20 });
}

/**
 * A root of that kind in `root`. Its etc/os-release is an absolute symlink to /usr/lib/os-release, as on most
 * images: read on the host it would be this machine's.
 */
export async function makeRoot(kind: RootKind, root: string): Promise<void> {
  const osRelease = async (text: string) => {
    await put(root, 'usr/lib/os-release', text);
    await mkdir(join(root, 'etc'), { recursive: true });
    await symlink('/usr/lib/os-release', join(root, 'etc/os-release'));
  };
  const realOs = async (name: string) => osRelease(await readFile(join(REAL, 'os-release', name), 'utf8'));
  switch (kind) {
    case 'dpkg':
      await osRelease(UBUNTU_1804);
      await put(root, DB_FILE.dpkg, await readFile(join(REAL, 'dpkg/trivy-valid/status')));
      await mkdir(join(root, 'var/lib/dpkg/updates'), { recursive: true });
      await mkdir(join(root, 'var/lib/dpkg/info'), { recursive: true });
      break;
    case 'distroless':
      await osRelease(DEBIAN_12);
      await cp(join(REAL, 'dpkg/syft-distroless'), join(root, 'var/lib/dpkg/status.d'), { recursive: true, filter: notProvenance });
      break;
    case 'apk':
      await osRelease(ALPINE);
      await put(root, DB_FILE.apk, await readFile(join(REAL, 'apk/syft-multiple-2/installed')));
      break;
    case 'wolfi':
      // merged /usr: lib is a link to /usr/lib, so lib/apk/db/installed is usr/lib/apk/db/installed inside the root
      await realOs('wolfi');
      await put(root, DB_FILE.wolfi, await readFile(join(REAL, 'apk/apko-wolfi-base/installed')));
      await symlink('/usr/lib', join(root, 'lib'));
      break;
    case 'rpm-sqlite':
      await realOs('mariner');
      await put(root, DB_FILE['rpm-sqlite'], await unxz(join(REAL, 'rpm/cbl-mariner-2.0.rpmdb.sqlite.xz')));
      break;
    case 'rpm-bdb':
      await osRelease(CENTOS_8);
      await put(root, DB_FILE['rpm-bdb'], await unxz(join(REAL, 'rpm/centos8-libuuid.Packages.xz')));
      break;
    case 'ndb':
      await realOs('sles');
      await put(root, DB_FILE.ndb, await unxz(join(REAL, 'rpm/sle15-bci.Packages.db.xz')));
      break;
    case 'pacman':
      await osRelease(ARCH);
      await cp(join(REAL, 'pacman/syft-local'), join(root, 'var/lib/pacman/local'), { recursive: true, filter: notProvenance });
      break;
  }
}

/** Every entry of a tree with its type, mode, size, mtime and content (or link target): equal means untouched. */
export async function treeFingerprint(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const p = join(rel, name);
      const st = await lstat(join(root, p));
      const what = st.isSymbolicLink()
        ? `-> ${await readlink(join(root, p))}`
        : st.isFile()
          ? createHash('sha256').update(await readFile(join(root, p))).digest('hex')
          : st.isDirectory()
            ? 'dir'
            : 'other';
      out.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${what}`);
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk('');
  return out;
}

/** The same file cut at `offset`, or with 8 bytes of 0xff written at `offset`. */
export async function damage(file: string, how: 'cut' | 'flip', offset: number, original: Buffer): Promise<void> {
  if (how === 'cut') await writeFile(file, original.subarray(0, offset));
  else {
    const b = Buffer.from(original);
    b.fill(0xff, offset, Math.min(b.length, offset + 8));
    await writeFile(file, b);
  }
}
