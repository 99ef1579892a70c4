/**
 * `lock`: libdnf decides, in one transaction. The host's dnf 4 Python API (what the `dnf` command runs on, as
 * rpm-lockfile-prototype uses it) resolves the names against the base's rpm database (a copy in a scratch
 * install root: dnf writes its rpm lock and history beside it) and the repositories pinget verified, laid out
 * as `file://` directories. Nothing of the host's dnf is read: no dnf.conf (the API reads none unless asked),
 * no reposdir, no vars, no plugins. It prints the transaction's install set with each package's location and
 * checksum from primary.xml (`Package.chksum`), as JSON.
 */
import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PingetError } from '../../src/errors.js';
import { run } from '../../src/exec.js';
import type { RpmDbLocation } from './rpmdb.js';

export interface DnfRun {
  scratch: string;
  /** dnf's cachedir, kept between runs: its solv caches of the repositories and the rpm database (checked by dnf against their checksums). */
  cacheDir: string;
  /** The base's root and where its rpm database is; none: an empty system, nothing installed. */
  root: string;
  db?: RpmDbLocation;
  arch: string;
  releasever: string;
  repos: { id: string; dir: string }[];
  names: string[];
  weak: boolean;
  signal?: AbortSignal;
}

export interface DnfPackage {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  repo: string;
  location: string;
  chksum_type: string;
  chksum: string;
  sourcerpm: string;
  /** Selected by one of the requested names (dnf records it as user-installed). */
  user: boolean;
}

export const DNF_HINT = 'install dnf (Debian: apt-get install dnf; it brings python3-dnf)';

const SCRIPT = String.raw`
import json, shutil, sys
try:
    import dnf, dnf.exceptions, dnf.subject, hawkey, rpm
except ImportError as e:
    print(json.dumps({'nodnf': str(e)})); sys.exit(0)
req = json.load(sys.stdin)
base = dnf.Base()
c = base.conf
c.installroot = req['installroot']
for k in ('cachedir', 'persistdir', 'logdir'):
    setattr(c, k, req[k])
c.reposdir = []
c.arch = req['arch']
c.substitutions['releasever'] = req['releasever']
c.install_weak_deps = req['weak']
c.gpgcheck = False
for r in req['repos']:
    base.repos.add_new_repo(r['id'], c, baseurl=['file://' + r['dir']], gpgcheck=False, repo_gpgcheck=False, skip_if_unavailable=False)
# Debian's rpm keeps its database in ~/.rpmdb: the base's own path and backend, set last (dnf re-reads the macros).
rpm.addMacro('_dbpath', req['dbpath'])
rpm.addMacro('_db_backend', req['backend'])
try:
    base.fill_sack(load_system_repo=req['system'], load_available_repos=True)
except dnf.exceptions.Error as e:
    print(json.dumps({'error': 'cannot load the repositories: %s' % e})); sys.exit(0)
# The kept cachedir keeps only the solv caches: each run's copy of the metadata (under a per-baseurl name) goes.
for r in base.repos.iter_enabled():
    shutil.rmtree(r._repo.getCachedir(), ignore_errors=True)
arches = set(p.arch for p in base.sack.query().available())
if req['arch'] not in arches and arches - {'noarch', 'src', 'nosrc'}:
    print(json.dumps({'arch': sorted(arches - {'src', 'nosrc'})})); sys.exit(0)
missing = []
for n in req['names']:
    try:
        base.install(n, strict=True)
    except dnf.exceptions.MarkingError:
        missing.append(n)
    except dnf.exceptions.Error as e:
        print(json.dumps({'error': '%s: %s' % (n, e)})); sys.exit(0)
if missing:
    print(json.dumps({'missing': missing})); sys.exit(0)
try:
    base.resolve()
except dnf.exceptions.Error as e:
    print(json.dumps({'error': str(e)})); sys.exit(0)
user = set()
for n in req['names']:
    for p in dnf.subject.Subject(n).get_best_query(base.sack):
        user.add((p.name, p.evr, p.arch))
out = []
for p in base.transaction.install_set:
    t, d = p.chksum
    out.append({'name': p.name, 'epoch': p.epoch, 'version': p.version, 'release': p.release, 'arch': p.arch, 'repo': p.reponame,
                'location': p.location, 'chksum_type': hawkey.chksum_name(t), 'chksum': d.hex(), 'sourcerpm': p.sourcerpm or '',
                'user': (p.name, p.evr, p.arch) in user})
print(json.dumps({'packages': out}))
`;

/** The Python dnf runs on: the interpreter its `dnf` command names (`#!/usr/bin/python3`). */
async function dnfPython(): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(':').filter(Boolean)) {
    const head = await readFile(join(dir, 'dnf'), 'utf8').then((t) => t.slice(0, 200), () => undefined);
    if (head === undefined) continue;
    const m = /^#!\s*(\S+)/.exec(head);
    if (m) return m[1];
  }
  throw new PingetError('UNAVAILABLE', `dnf is not installed: ${DNF_HINT}`);
}

export async function dnfChoose(o: DnfRun): Promise<DnfPackage[]> {
  const python = await dnfPython();
  const installroot = join(o.scratch, 'root');
  for (const d of ['persist', 'log']) await mkdir(join(o.scratch, d), { recursive: true });
  // A copy: dnf opens the database for writing (its lock, sqlite's journal) even when it only reads.
  if (o.db) await cp(join(o.root, o.db.dbpath), join(installroot, o.db.dbpath), { recursive: true });
  const db = o.db ?? { dbpath: '/usr/lib/sysimage/rpm', backend: 'sqlite' };
  const input = JSON.stringify({
    installroot,
    cachedir: o.cacheDir,
    persistdir: join(o.scratch, 'persist'),
    logdir: join(o.scratch, 'log'),
    dbpath: db.dbpath,
    backend: db.backend,
    system: !!o.db,
    arch: o.arch,
    releasever: o.releasever,
    weak: o.weak,
    repos: o.repos.map(({ id, dir }) => ({ id, dir })),
    names: o.names,
  });
  // -I: no user site, no PYTHON* variables of the caller's environment.
  const res = await run(python, ['-I', '-c', SCRIPT], { input, signal: o.signal, env: { ...process.env, LC_ALL: 'C.UTF-8' }, missingHint: DNF_HINT });
  let doc: { nodnf?: string; arch?: string[]; error?: string; missing?: string[]; packages?: DnfPackage[] };
  try {
    doc = JSON.parse(res.stdout.trim().split('\n').pop() ?? '') as typeof doc;
  } catch {
    throw new PingetError('PACKAGE_MANAGER', `dnf's resolver failed (exit ${res.code}): ${res.stderr.trim().split('\n').pop() ?? ''}`, { details: res.stderr.trim().split('\n').slice(-20) });
  }
  if (doc.nodnf) throw new PingetError('UNAVAILABLE', `${python} has no dnf module (${doc.nodnf}): ${DNF_HINT}`);
  if (doc.arch) throw new PingetError('USAGE', `the repositories (${o.repos.map((r) => r.id).join(', ')}) do not serve ${o.arch}: their packages are for ${doc.arch.join(', ')}`);
  if (doc.missing) throw new PingetError('BAD_INPUT', `no package ${doc.missing.join(', ')} in the repositories (${o.repos.map((r) => r.id).join(', ')})`);
  if (doc.error) throw new PingetError('BAD_INPUT', `dnf cannot install the request: ${doc.error.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join('; ')}`);
  return doc.packages ?? [];
}
