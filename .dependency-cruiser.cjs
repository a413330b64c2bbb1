/**
 * Import rules of docs/ARCHITECTURE.md, made mechanical: `npm run lint` fails on a violation.
 */
const STAGES = 'venues|feed|candles|book|store|bus|protocol|gateway|sim|config|telemetry|apps';

module.exports = {
  forbidden: [
    {
      name: 'domain-imports-nothing-of-ours',
      comment: 'domain/ is the vocabulary every stage shares, so it imports no other folder.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: `^src/(${STAGES})/` },
    },
    {
      name: 'venue-imports-no-other-venue',
      comment: 'Each exchange lives in its own folder; a quirk of one never leaks into another.',
      severity: 'error',
      from: { path: '^src/venues/([^/]+)/' },
      to: { path: '^src/venues/([^/]+)/', pathNot: ['^src/venues/$1/', '^src/venues/connection/'] },
    },
    {
      name: 'venues-import-no-later-stage',
      severity: 'error',
      from: { path: '^src/venues/' },
      to: { path: '^src/(feed|candles|book|store|bus|protocol|gateway|apps)/' },
    },
    {
      name: 'gateway-imports-no-venue-or-concrete-backend',
      comment: 'The gateway consumes interfaces; only apps/ picks the Bus and CandleStore implementations.',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: {
        path: ['^src/venues/', '^src/sim/', '^src/candles/', '^src/apps/'],
      },
    },
    {
      name: 'gateway-uses-bus-and-store-interfaces-only',
      severity: 'error',
      from: { path: '^src/gateway/', pathNot: '\\.test\\.ts$' },
      to: {
        path: '^src/(bus|store)/[^/]*-(bus|store)\\.ts$',
        pathNot: '^src/(bus/bus|store/candle-store)\\.ts$',
      },
    },
    {
      name: 'sim-is-independent',
      comment: 'The simulator writes each venue wire format itself so that adapters are checked against it.',
      severity: 'error',
      from: { path: '^src/sim/' },
      to: { path: `^src/(venues|feed|candles|book|store|bus|gateway|apps)/` },
    },
    {
      name: 'only-apps-wires',
      comment: "Nothing imports the composition roots but the package's entry point, which exports one.",
      severity: 'error',
      from: { path: '^src/(?!apps/)', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/apps/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: 'node_modules' },
  },
};
