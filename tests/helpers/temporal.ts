import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TEMPORAL_CLI } from './paths';

/**
 * The real Temporal dev server, built by scripts/setup.sh (its default download cannot work here).
 * One per test file; call `env.teardown()` in afterAll.
 */
export function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: TEMPORAL_CLI },
      ui: false,
      extraArgs: ['--log-level', 'error'],
    },
  });
}
