import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The production topology tier has its own command and tools: npm run test:topology.
    exclude: [...configDefaults.exclude, 'tests/topology/**'],
    // Integration suites start real servers (Temporal, emulators, Spark): two at a time fits 2 cores.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['tests/global-setup.ts'],
    coverage: {
      provider: 'v8',
      include: ['{activities,client,config,connectors,lib,mappings,migrate,ports,sandbox,streams,tracking,webhook,workers,workflows}/**/*.ts'],
      // Entry points only: each is a few lines that wire tested modules to the process.
      exclude: ['**/main.ts', 'client/start.ts', 'workers/worker-main.ts', 'webhook/server-main.ts', 'webhook/azure/index.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'test-output/coverage',
      thresholds: { lines: 80 },
    },
  },
});
