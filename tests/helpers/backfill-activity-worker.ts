import { NativeConnection, Worker } from '@temporalio/worker';
import { buildConfig } from '../../config/config';
import { createLogger } from '../../config/logger';
import { buildDeps } from '../../workers/deps';
import { createActivities } from '../../activities';
import { HEARTBEAT_THROTTLE } from '../../workers/worker';

/**
 * A worker process that runs the activities only, so a test can SIGKILL it in the middle of a page
 * (a real crash: no graceful shutdown, no last heartbeat). Configured through BF_* variables.
 */
async function main(): Promise<void> {
  const e = process.env;
  const dir = e.BF_DATA_DIR!;
  const config = buildConfig({ TEMPORAL_ADDRESS: e.BF_TEMPORAL, TEMPORAL_TASK_QUEUE: e.BF_QUEUE, DATA_DIR: dir, SYNC_INTERVAL: '1h' }, dir);
  config.bigquery = { projectId: e.BF_BQ_PROJECT!, apiEndpoint: e.BF_BQ_URL, dataset: e.BF_BQ_DATASET!, tables: ['tracks', 'identifies', 'pages'] };
  config.amplitude.serverUrl = e.BF_AMP_URL!;
  const deps = await buildDeps(config, createLogger({ level: 'silent' }));
  const connection = await NativeConnection.connect({ address: e.BF_TEMPORAL });
  const worker = await Worker.create({ connection, taskQueue: e.BF_QUEUE!, activities: createActivities(deps), maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE });
  process.stdout.write('ready\n');
  await worker.run();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
