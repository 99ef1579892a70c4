/**
 * The layers (README and docs/architecture.md): CLI -> commands -> core <- distros. Checked by `npm run layers` and by
 * test/layers.test.ts. The one place where the core may reach distros/ is the composition point.
 */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-never-imports-distros',
      comment: 'src/ knows no distro: only src/distro-registry.ts hands the adapters to the commands',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/distro-registry\\.ts$' },
      to: { path: '^distros/' },
    },
    {
      name: 'distros-never-import-commands',
      severity: 'error',
      from: { path: '^distros/' },
      to: { path: '^src/(commands/|main\\.ts|cli\\.ts|distro-registry\\.ts)' },
    },
    {
      name: 'distros-are-independent',
      comment: 'one folder per distro: an adapter does not reach into another',
      severity: 'error',
      from: { path: '^distros/([^/]+)/' },
      to: { path: '^distros/', pathNot: ['^distros/$1/'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|test|bench)/' },
  },
};
