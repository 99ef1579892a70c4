/** A cheap fingerprint of a tree, to show a command left it alone: paths, modes, sizes, mtimes and bytes. */
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Sockets (a gpg-agent's, in a root's keyring) are left out: they come and go with the agent. */
export function treeDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      if (st.isSocket()) continue;
      h.update(`${p.slice(dir.length)} ${st.mode} ${st.size} ${st.mtimeMs}\n`);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}
