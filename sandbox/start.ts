import type { AppConfig, ServiceName } from '../config/config';
import type { Logger } from '../config/logger';
import { SANDBOX } from '../config/sandbox-endpoints';
import { startAmplitudeEmulator } from './amplitude';
import { startDriftEmulator } from './drift';
import { startSalesforceEmulator } from './salesforce';
import { startBigQueryEmulator, segmentRowsForScale } from './bigquery';
import { startSegmentEmulator } from './segment';

export interface RunningSandbox {
  /** Service name -> base URL, for the start-up message. */
  urls: Record<string, string>;
  /** Environment values that point a platform at these emulators. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** `services` is the whole list being started, so that one emulator can find another it writes into. */
type Starter = (config: AppConfig, services: readonly ServiceName[]) => Promise<{ url: string; close(): Promise<void> }>;

const starters: Partial<Record<ServiceName, Starter>> = {
  salesforce: (c) => startSalesforceEmulator({ port: SANDBOX.salesforce.port, seed: c.sandbox.seed, scale: c.sandbox.scale }),
  drift: (c) =>
    startDriftEmulator({ port: SANDBOX.drift.port, seed: c.sandbox.seed, scale: c.sandbox.scale, token: SANDBOX.drift.token }),
  amplitude: () => startAmplitudeEmulator({ port: SANDBOX.amplitude.port, apiKeys: [SANDBOX.amplitude.apiKey] }),
  bigquery: (c) =>
    startBigQueryEmulator({
      port: SANDBOX.bigquery.port,
      grpcPort: SANDBOX.bigquery.grpcPort,
      projectId: SANDBOX.bigquery.projectId,
      dataset: c.bigquery.dataset,
      seed: c.sandbox.seed,
      rowsPerTable: segmentRowsForScale(c.sandbox.scale),
      dataDir: c.dataDir,
    }),
  // Segment's warehouse sync: what the forward delivers lands in the BigQuery emulator's Segment dataset, when it runs too.
  segment: (c, services) =>
    startSegmentEmulator({
      port: SANDBOX.segment.port,
      writeKeys: [SANDBOX.segment.writeKey],
      warehouse: services.includes('bigquery') ? { url: SANDBOX.bigquery.url, projectId: SANDBOX.bigquery.projectId, dataset: c.bigquery.dataset } : undefined,
    }),
};

/** Emulators that write into others start after them. */
const START_LAST: readonly ServiceName[] = ['segment'];

/** Starts an emulator for every service the configuration leaves to the sandbox. */
export async function startSandbox(config: AppConfig, log: Logger, services: ServiceName[] = config.sandboxed): Promise<RunningSandbox> {
  const running: { name: string; url: string; close(): Promise<void> }[] = [];
  const stop = async () => {
    for (const r of running.reverse()) await r.close().catch((err: unknown) => log.warn({ err }, `${r.name} emulator did not stop cleanly`));
  };
  try {
    // Segment's Tracking API stands with its warehouse: the BigQuery emulator brings the Segment emulator along.
    const wanted: ServiceName[] = services.includes('bigquery') && !services.includes('segment') ? [...services, 'segment'] : services;
    const ordered = [...wanted.filter((s) => !START_LAST.includes(s)), ...wanted.filter((s) => START_LAST.includes(s))];
    for (const name of ordered) {
      const start = starters[name];
      if (!start) {
        log.warn(`no emulator for ${name} yet: its flow cannot run in sandbox mode`);
        continue;
      }
      const emu = await start(config, wanted);
      running.push({ name, ...emu });
      log.info(`${name} emulator on ${emu.url}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const urls = Object.fromEntries(running.map((r) => [`${r.name} (sandbox)`, r.url]));
  return { urls, env: sandboxEnv(running.map((r) => r.name as ServiceName)), stop };
}

/** The variables that point a platform at the emulators explicitly, as if they were the real services. */
export function sandboxEnv(services: ServiceName[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (services.includes('salesforce'))
    Object.assign(env, { SALESFORCE_LOGIN_URL: SANDBOX.salesforce.url, SALESFORCE_AUTH: 'client_credentials', SALESFORCE_CLIENT_ID: SANDBOX.salesforce.clientId, SALESFORCE_CLIENT_SECRET: SANDBOX.salesforce.clientSecret });
  if (services.includes('drift')) Object.assign(env, { DRIFT_BASE_URL: SANDBOX.drift.url, DRIFT_TOKEN: SANDBOX.drift.token, DRIFT_VERIFICATION_TOKEN: SANDBOX.drift.verificationToken });
  if (services.includes('amplitude')) Object.assign(env, { AMPLITUDE_SERVER_URL: SANDBOX.amplitude.url, AMPLITUDE_API_KEY: SANDBOX.amplitude.apiKey });
  if (services.includes('bigquery')) Object.assign(env, { BIGQUERY_PROJECT: SANDBOX.bigquery.projectId, BIGQUERY_API_ENDPOINT: SANDBOX.bigquery.url });
  if (services.includes('segment')) Object.assign(env, { SEGMENT_FORWARD: 'on', SEGMENT_FORWARD_ENDPOINT: SANDBOX.segment.url, SEGMENT_FORWARD_WRITE_KEY: SANDBOX.segment.writeKey });
  return env;
}
