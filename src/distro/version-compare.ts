/**
 * Version ordering, for telling upgrades from downgrades. Pure implementations of the distros' own
 * algorithms, so `pinget diff` works where dpkg or rpm are not installed (a CI runner reviewing a PR).
 * Debian: deb-version(7) — epoch, then upstream and revision compared by alternating non-digit and
 * digit runs, letters before non-letters, `~` before everything (even the end).
 * RPM and pacman: rpmvercmp — alphanumeric segments, numeric beats alpha, `~` sorts before the end,
 * then epoch:version-release compared piecewise (pacman's vercmp is the same algorithm).
 */

function debOrder(c: string | undefined): number {
  if (c === undefined) return 0;
  if (c === '~') return -1;
  if (/[A-Za-z]/.test(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function debCompareFragment(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !/\d/.test(a[i])) || (j < b.length && !/\d/.test(b[j]))) {
      const ac = i < a.length && !/\d/.test(a[i]) ? a[i] : undefined;
      const bc = j < b.length && !/\d/.test(b[j]) ? b[j] : undefined;
      const d = debOrder(ac) - debOrder(bc);
      if (d !== 0) return d < 0 ? -1 : 1;
      if (ac !== undefined) i++;
      if (bc !== undefined) j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (i < a.length && /\d/.test(a[i]) && j < b.length && /\d/.test(b[j])) {
      if (!firstDiff) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && /\d/.test(a[i])) return 1;
    if (j < b.length && /\d/.test(b[j])) return -1;
    if (firstDiff) return firstDiff < 0 ? -1 : 1;
  }
  return 0;
}

function splitDebian(v: string): [number, string, string] {
  const colon = v.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(v.slice(0, colon)) ? Number(v.slice(0, colon)) : 0;
  const rest = colon > 0 ? v.slice(colon + 1) : v;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ''];
}

export function compareDebianVersions(a: string, b: string): number {
  const [ea, ua, ra] = splitDebian(a);
  const [eb, ub, rb] = splitDebian(b);
  if (ea !== eb) return ea < eb ? -1 : 1;
  return debCompareFragment(ua, ub) || debCompareFragment(ra, rb);
}

/** rpmvercmp over one of version or release. */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !/[A-Za-z0-9~^]/.test(a[i])) i++;
    while (j < b.length && !/[A-Za-z0-9~^]/.test(b[j])) j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = /\d/.test(a[i]);
    const re = numeric ? /^\d+/ : /^[A-Za-z]+/;
    const sa = re.exec(a.slice(i))?.[0] ?? '';
    const sb = re.exec(b.slice(j))?.[0] ?? '';
    if (sb === '') return numeric ? 1 : -1;
    i += sa.length;
    j += sb.length;
    if (numeric) {
      const na = sa.replace(/^0+/, '');
      const nb = sb.replace(/^0+/, '');
      if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
      if (na !== nb) return na < nb ? -1 : 1;
    } else if (sa !== sb) return sa < sb ? -1 : 1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** epoch:version-release, as rpm and pacman write it. */
export function compareEvr(a: string, b: string): number {
  const split = (v: string): [number, string, string] => {
    const colon = v.indexOf(':');
    const epoch = colon > 0 && /^\d+$/.test(v.slice(0, colon)) ? Number(v.slice(0, colon)) : 0;
    const rest = colon > 0 ? v.slice(colon + 1) : v;
    const dash = rest.lastIndexOf('-');
    return dash >= 0 ? [epoch, rest.slice(0, dash), rest.slice(dash + 1)] : [epoch, rest, ''];
  };
  const [ea, va, ra] = split(a);
  const [eb, vb, rb] = split(b);
  if (ea !== eb) return ea < eb ? -1 : 1;
  const v = rpmvercmp(va, vb);
  if (v !== 0) return v;
  if (ra === '' || rb === '') return 0;
  return rpmvercmp(ra, rb);
}

/** The ordering a distro uses for its versions. Alpine's apk ordering is close to rpmvercmp for common versions. */
export function versionComparator(distroId: string): (a: string, b: string) => number {
  return distroId === 'debian' || distroId === 'ubuntu' ? compareDebianVersions : compareEvr;
}

/**
 * Whether an installed version is the pinned one. Debian pool file names and Koji paths drop the
 * epoch, so a pinned version without one matches an installed `epoch:version` of the same rest; a pinned
 * version with an epoch (rpm lockfiles that record epochs, `0:` included) matches only that epoch.
 */
export function isPinnedVersion(pinned: string, installed: string): boolean {
  const noZero = (v: string) => v.replace(/^0+:/, '');
  if (pinned === installed || noZero(pinned) === noZero(installed)) return /^0+:/.test(pinned) ? !/^[1-9]\d*:/.test(installed) : true;
  return !pinned.includes(':') && installed.replace(/^\d+:/, '') === pinned;
}
