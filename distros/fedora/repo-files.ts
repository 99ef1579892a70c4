/**
 * yum/dnf `.repo` files (pure): INI sections, one per repository. Values may continue on indented lines
 * (baseurl and gpgkey lists), and `$releasever`, `$basearch`, ... are substituted as dnf does
 * (dnf.conf(5), "Repo variables"; `${var}` works too).
 */

export interface RepoConfig {
  id: string;
  /** Where it was read, `file:line`, for messages. */
  source: string;
  name?: string;
  baseurls: string[];
  metalink?: string;
  mirrorlist?: string;
  enabled: boolean;
  gpgcheck: boolean;
  repoGpgcheck: boolean;
  gpgkeys: string[];
}

function truthy(v: string | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  return ['1', 'yes', 'true', 'on'].includes(v.trim().toLowerCase());
}

function splitList(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}

/** Replaces `$var` and `${var}`; longest names first, unknown variables are left as they are. */
export function expandVars(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    if (braced !== undefined) return vars[braced] ?? whole;
    // `$releasever_major` must not be read as `$releasever` + `_major`: take the longest known prefix.
    const name = bare!;
    for (let n = name.length; n > 0; n--) {
      const k = name.slice(0, n);
      if (k in vars) return vars[k] + name.slice(n);
    }
    return whole;
  });
}

export function parseRepoFile(text: string, file: string, vars: Record<string, string>): RepoConfig[] {
  const sections: { id: string; line: number; kv: Record<string, string> }[] = [];
  let current: (typeof sections)[number] | undefined;
  let lastKey: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*([#;].*)?$/.test(line)) return;
    const section = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (section) {
      current = { id: section[1].trim(), line: i + 1, kv: {} };
      sections.push(current);
      lastKey = undefined;
      return;
    }
    if (/^\s/.test(line) && current && lastKey) {
      current.kv[lastKey] += `\n${line.trim()}`;
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || !current) return;
    lastKey = line.slice(0, eq).trim().toLowerCase();
    current.kv[lastKey] = line.slice(eq + 1).trim();
  });
  return sections
    .filter((s) => s.id.toLowerCase() !== 'main')
    .map((s) => {
      const x = (k: string) => (s.kv[k] === undefined ? undefined : expandVars(s.kv[k], vars));
      return {
        id: s.id,
        source: `${file}:${s.line}`,
        name: x('name'),
        baseurls: splitList(x('baseurl')),
        metalink: x('metalink') || undefined,
        mirrorlist: x('mirrorlist') || undefined,
        enabled: truthy(s.kv.enabled, true),
        gpgcheck: truthy(s.kv.gpgcheck, false),
        repoGpgcheck: truthy(s.kv.repo_gpgcheck, false),
        gpgkeys: splitList(x('gpgkey')),
      };
    });
}

/** The variables dnf substitutes, from the root's release and architecture. */
export function repoVars(releasever: string | undefined, basearch: string): Record<string, string> {
  const vars: Record<string, string> = { basearch, arch: basearch };
  if (releasever) {
    vars.releasever = releasever;
    vars.releasever_major = releasever.split('.')[0];
    vars.releasever_minor = releasever.split('.')[1] ?? '';
  }
  return vars;
}

/** A repository of source rpms, by the name dnf's shipped repo files give it (fedora-source, updates-source, baseos-source). */
export const isSourceRepo = (c: RepoConfig) => /-source$/i.test(c.id);
