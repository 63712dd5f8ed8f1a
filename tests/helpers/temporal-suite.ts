import { afterAll, beforeAll } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../workers/workflows-path';
import { startDevServer } from './temporal';

/**
 * A suite's Temporal: one dev server and one workflow bundle for the file, started before its first
 * test and torn down after its last. Read `env` and `bundle` inside tests.
 */
export function temporalSuite(): { readonly env: TestWorkflowEnvironment; readonly bundle: WorkflowBundleWithSourceMap } {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundleWithSourceMap | undefined;
  beforeAll(async () => {
    // Worker state changes (INFO) and the activity failures tests cause on purpose (WARN) would bury the output.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    [env, bundle] = await Promise.all([startDevServer(), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })]);
    // A loaded machine (the whole suite on 2 cores) has taken minutes to start both.
  }, 300_000);
  afterAll(async () => {
    await env?.teardown();
  });
  const started = <T>(x: T | undefined): T => {
    if (x === undefined) throw new Error('temporalSuite: the dev server and the bundle exist only inside a test (after beforeAll)');
    return x;
  };
  return {
    get env() {
      return started(env);
    },
    get bundle() {
      return started(bundle);
    },
  };
}
