/** What dnf and rpm leave that records when or how they ran, for `install --normalize`. */
import type { Normalization } from '../../src/distro/types.js';

const HISTORY = 'var/lib/dnf/history.sqlite';

export const fedoraNormalization: Normalization = {
  volatile: ['var/log/dnf.log', 'var/log/dnf.librepo.log', 'var/log/dnf.rpm.log', 'var/log/hawkey.log', 'var/cache/dnf/*', HISTORY, `${HISTORY}-wal`, `${HISTORY}-shm`, 'var/lib/rpm/.rpm.lock'],
  // dnf's history holds the manual header's marks: its times are clamped rather than the file removed
  async keep(root, epoch, headers, log) {
    if (headers.manual === undefined) return [];
    const { clampDnfHistory } = await import('./history-clamp.js');
    return (await clampDnfHistory(root, epoch, log)) ? [HISTORY] : [];
  },
};
