import { defineConfig } from 'vitest/config';

/**
 * `npm run test:topology`: the production topology tier (tests/topology), apart from `npm test`
 * because it needs the production Temporal server, PostgreSQL and Prometheus (scripts/setup.sh
 * --for-topology) and minutes of wall time. One file at a time: each starts a whole cluster.
 */
export default defineConfig({
  test: {
    include: ['tests/topology/**/*.test.ts'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 600_000,
    globalSetup: ['tests/topology/global-setup.ts'],
  },
});
