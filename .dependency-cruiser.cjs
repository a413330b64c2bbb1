/**
 * Import rules of docs/ARCHITECTURE.md, made mechanical: `npm run lint` fails on a violation.
 *
 * Each stage lists what it may import (an allow-list): anything else of ours is an error. Tests, contract suites
 * and test support files may import anything (they pick concrete backends and fixtures on purpose).
 */

/** Test code: exempt from the stage allow-lists. */
const TEST_CODE = '(\\.test|\\.test-support|\\.contract)\\.ts$';

/**
 * Files that talk to a concrete backend (Redis, PostgreSQL, PGlite). Only apps/ wires them. The rule
 * `backend-clients-only-in-backend-files` keeps this list complete: a file that imports ioredis, pg or PGlite
 * and is not matched here fails the lint.
 */
const CONCRETE_BACKENDS = [
  '^src/bus/redis-bus\\.ts$',
  '^src/bus/leader-lock\\.ts$',
  '^src/bus/redis-rate-windows\\.ts$',
  '^src/store/pg-pool-client\\.ts$',
  '^src/store/pglite-client\\.ts$',
  '^src/store/pglite-worker\\.ts$',
  '^src/store/pglite-worker-client\\.ts$',
  '^src/store/pglite-candle-store\\.ts$',
  '^src/store/postgres-candle-store\\.ts$',
];

/** Interfaces and message codecs of the bus and the store, which stages consume without picking a backend. */
const BUS_AND_STORE_INTERFACES = [
  '^src/bus/(bus|candle-message|market-message|alert-message|sources-message)\\.ts$',
  '^src/store/candle-store\\.ts$',
  '^src/store/account-store\\.ts$',
];

/** The account side's contracts (sources, state, hub), which venue adapters and the gateway implement or read. */
const ACCOUNT_CONTRACT = '^src/account/contract\\.ts$';

const ALWAYS = ['^src/domain/', '^src/util/'];

/** What each stage may import besides itself. */
const ALLOWED = {
  domain: [],
  util: [],
  telemetry: ALWAYS,
  protocol: [...ALWAYS],
  client: ['^src/protocol/', '^src/domain/'],
  candles: [...ALWAYS],
  book: [...ALWAYS, '^src/telemetry/'],
  store: [...ALWAYS, '^src/telemetry/'],
  bus: [...ALWAYS, '^src/telemetry/', '^src/protocol/'],
  venues: [...ALWAYS, '^src/telemetry/', ACCOUNT_CONTRACT],
  sim: [...ALWAYS, '^src/telemetry/'],
  feed: [...ALWAYS, '^src/telemetry/', '^src/venues/venue\\.ts$'],
  config: [...ALWAYS, '^src/telemetry/', '^src/venues/registry\\.ts$'],
  ingest: [
    ...ALWAYS,
    '^src/telemetry/',
    '^src/protocol/',
    '^src/config/',
    '^src/venues/venue\\.ts$',
    '^src/feed/',
    '^src/candles/',
    '^src/book/',
    ...BUS_AND_STORE_INTERFACES,
  ],
  account: [...ALWAYS, '^src/telemetry/', '^src/config/', ...BUS_AND_STORE_INTERFACES],
  gateway: [
    ...ALWAYS,
    '^src/telemetry/',
    '^src/protocol/',
    '^src/config/',
    ...BUS_AND_STORE_INTERFACES,
    ACCOUNT_CONTRACT,
  ],
};

const stageRules = Object.entries(ALLOWED).map(([stage, allowed]) => ({
  name: `${stage}-imports-only-its-allow-list`,
  severity: 'error',
  from: { path: `^src/${stage}/`, pathNot: TEST_CODE },
  to: { path: '^src/', pathNot: [`^src/${stage}/`, ...allowed] },
}));

module.exports = {
  forbidden: [
    ...stageRules,
    {
      name: 'venue-imports-no-other-venue',
      comment: 'Each exchange lives in its own folder; a quirk of one never leaks into another.',
      severity: 'error',
      from: { path: '^src/venues/([^/]+)/', pathNot: TEST_CODE },
      to: { path: '^src/venues/([^/]+)/', pathNot: ['^src/venues/$1/', '^src/venues/connection/'] },
    },
    {
      name: 'sim-venue-imports-no-other-sim-venue',
      comment: 'Each simulated exchange is written on its own, like the real ones.',
      severity: 'error',
      from: { path: '^src/sim/(binance|okx|bitget|dydx)/', pathNot: TEST_CODE },
      to: { path: '^src/sim/(binance|okx|bitget|dydx)/', pathNot: '^src/sim/$1/' },
    },
    {
      name: 'client-runs-in-browsers',
      comment:
        'tickwire/client and tickwire/react run in browsers as well as Node: no Node built-in, no server package.',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TEST_CODE },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'client-uses-no-server-package',
      severity: 'error',
      from: { path: '^src/client/', pathNot: TEST_CODE },
      to: { path: '^node_modules/', pathNot: '^node_modules/(react|@types/react)/' },
    },
    {
      name: 'only-apps-wires-concrete-backends',
      comment:
        'Stages consume the Bus and CandleStore interfaces; only apps/ picks Redis, PostgreSQL or PGlite.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/apps/', TEST_CODE, ...CONCRETE_BACKENDS] },
      to: { path: CONCRETE_BACKENDS },
    },
    {
      name: 'backend-clients-only-in-backend-files',
      comment: 'Keeps CONCRETE_BACKENDS complete: every file using ioredis, pg or PGlite is listed there.',
      severity: 'error',
      from: { path: '^src/', pathNot: [TEST_CODE, ...CONCRETE_BACKENDS] },
      to: { path: '^node_modules/(ioredis|pg|@electric-sql/pglite)/' },
    },
    {
      name: 'only-apps-wires',
      severity: 'error',
      comment: 'Nothing imports the composition roots, except the package entry that re-exports startAll.',
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
  },
};
