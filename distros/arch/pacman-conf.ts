/**
 * pacman.conf(5) and mirrorlists: an INI file whose `[options]` section holds settings and every other
 * section is a repository with `Server =` lines and `Include =` files of more `Server =` lines.
 * Pure: include files are read by the caller (pacman-root.ts) and passed in.
 */
export interface RepoConf {
  name: string;
  /** Server URLs in order, with `$repo` and `$arch` not yet expanded. */
  servers: string[];
  sigLevel?: string[];
}

export interface PacmanConf {
  options: Record<string, string[]>;
  repos: RepoConf[];
}

/** Lines of one file as [section, key, value] with comments and blanks dropped; value '' for bare flags. */
function* iniLines(text: string): Generator<{ section?: string; key: string; value: string }> {
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      yield { section, key: '', value: '' };
      continue;
    }
    const eq = line.indexOf('=');
    const key = (eq < 0 ? line : line.slice(0, eq)).trim();
    const value = eq < 0 ? '' : line.slice(eq + 1).trim();
    yield { section, key, value };
  }
}

/**
 * Parses pacman.conf. `readInclude(path)` returns the text of an `Include =` file (an absolute path as
 * written, which the caller maps into the root), or undefined when it does not exist.
 */
export function parsePacmanConf(text: string, readInclude: (path: string) => string | undefined = () => undefined): PacmanConf {
  const conf: PacmanConf = { options: {}, repos: [] };
  let repo: RepoConf | undefined;
  const visit = (body: string, depth: number) => {
    for (const { section, key, value } of iniLines(body)) {
      if (key === '' && section !== undefined) {
        if (depth > 0) continue; // sections inside included files are not pacman's rule; ignore them
        repo = section === 'options' ? undefined : { name: section, servers: [] };
        if (repo) conf.repos.push(repo);
        continue;
      }
      if (key === 'Include') {
        const inc = depth < 5 ? readInclude(value) : undefined;
        if (inc !== undefined) visit(inc, depth + 1);
        continue;
      }
      if (repo) {
        if (key === 'Server') repo.servers.push(value);
        else if (key === 'SigLevel') repo.sigLevel = value.split(/\s+/);
      } else if (section === 'options' || depth > 0) {
        (conf.options[key] ??= []).push(...(value === '' ? [] : value.split(/\s+/)));
      }
    }
  };
  visit(text, 0);
  return conf;
}

/** A mirrorlist Server URL with `$repo` and `$arch` filled in (pacman's own substitution, no escaping). */
export function expandServer(server: string, repo: string, arch: string): string {
  return server.replaceAll('$repo', repo).replaceAll('$arch', arch).replace(/\/+$/, '');
}

/**
 * When pacman -U checks a local package file's signature: pacman.conf(5) "Package and Database Signature
 * Checking" — the built-in default `Optional`, then `[options]` SigLevel, then LocalFileSigLevel (which
 * starts from SigLevel), left to right; `Database*` tokens do not apply to packages.
 */
export function localFilePackageSigLevel(conf: PacmanConf): 'Never' | 'Optional' | 'Required' {
  let level: 'Never' | 'Optional' | 'Required' = 'Optional';
  for (const token of [...(conf.options.SigLevel ?? []), ...(conf.options.LocalFileSigLevel ?? [])]) {
    const m = /^(Package)?(Never|Optional|Required)$/.exec(token);
    if (m) level = m[2] as typeof level;
  }
  return level;
}

/**
 * When pacman checks a repository's sync database signature: the built-in `Optional`, then `[options]`
 * SigLevel, then the repository's own SigLevel, left to right (pacman.conf(5)); `Package*` tokens do not apply.
 */
export function databaseSigLevel(conf: PacmanConf, repo: RepoConf): 'Never' | 'Optional' | 'Required' {
  let level: 'Never' | 'Optional' | 'Required' = 'Optional';
  for (const token of [...(conf.options.SigLevel ?? []), ...(repo.sigLevel ?? [])]) {
    const m = /^(Database)?(Never|Optional|Required)$/.exec(token);
    if (m) level = m[2] as typeof level;
  }
  return level;
}
