/** What dpkg and apt leave that records when or how they ran, for `install --normalize`. */
import type { Normalization } from '../../src/distro/types.js';

export const debianNormalization: Normalization = {
  volatile: [
    'var/log/dpkg.log',
    'var/log/apt/*',
    'var/lib/dpkg/status-old',
    'var/lib/dpkg/available-old',
    'var/lib/dpkg/diversions-old',
    'var/lib/dpkg/statoverride-old',
    'var/lib/dpkg/lock',
    'var/lib/dpkg/lock-frontend',
    'var/lib/dpkg/triggers/Lock',
    'var/cache/debconf/config.dat-old',
    'var/cache/debconf/templates.dat-old',
    'var/cache/apt/pkgcache.bin',
    'var/cache/apt/srcpkgcache.bin',
    'var/cache/apt/archives/*',
    'var/lib/apt/lists/*',
  ],
};
