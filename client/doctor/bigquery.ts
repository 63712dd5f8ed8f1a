import { createBigQueryClient, mapBigQueryError } from '../../connectors/bigquery';
import { PermanentError } from '../../lib/errors';
import { errorText, fail, pass, SANDBOX_FIX, serviceLabel, withTimeout, type DoctorCheck, type DoctorContext } from './types';

/** BigQuery: credentials work, the Segment dataset exists, and each configured table can be queried. */
export async function bigqueryChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const cfg = ctx.config.bigquery;
  const service = serviceLabel(ctx.config, 'bigquery');
  const sandboxed = ctx.config.sandboxed.includes('bigquery');
  const bq = createBigQueryClient({ projectId: cfg.projectId, apiEndpoint: cfg.apiEndpoint, keyFilename: cfg.keyFilename });

  const fixFor = (err: Error, table?: string): string => {
    if (/unreachable/i.test(err.message)) return sandboxed ? SANDBOX_FIX : 'check BIGQUERY_API_ENDPOINT (empty for Google\'s) and the network';
    if (!(err instanceof PermanentError)) return 'try again; if it persists, check status.cloud.google.com';
    switch (err.kind) {
      case 'AuthError':
        return `set GOOGLE_APPLICATION_CREDENTIALS to a valid service-account key file for project ${cfg.projectId}`;
      case 'PermissionError':
        return `grant the service account roles/bigquery.jobUser on project ${cfg.projectId} and roles/bigquery.dataViewer on dataset ${cfg.dataset}`;
      case 'ConfigError':
        return table && /table/i.test(err.message) && !/dataset .* not found/i.test(err.message)
          ? `remove ${table} from SEGMENT_TABLES, or check SEGMENT_DATASET (${cfg.dataset}) and BIGQUERY_PROJECT (${cfg.projectId})`
          : 'set SEGMENT_DATASET to the dataset of your Segment warehouse and BIGQUERY_PROJECT to the project that holds it';
      default:
        return 'check SEGMENT_TABLES and SEGMENT_DATASET';
    }
  };

  const datasetCheck = `dataset ${cfg.dataset}`;
  try {
    await withTimeout(bq.dataset(cfg.dataset).getMetadata(), ctx.timeoutMs, `reading dataset ${cfg.dataset}`);
  } catch (err) {
    const mapped = mapBigQueryError(err, { projectId: cfg.projectId, dataset: cfg.dataset, apiEndpoint: cfg.apiEndpoint, action: `reading dataset ${cfg.dataset}` });
    return [fail(service, datasetCheck, mapped.message, fixFor(mapped))];
  }
  const out: DoctorCheck[] = [pass(service, datasetCheck, `${cfg.projectId}.${cfg.dataset} exists`)];

  // A query (not tabledata.list) because the backfill reads through query jobs: it needs jobs.create too.
  const tables = await Promise.all(
    cfg.tables.map(async (table): Promise<DoctorCheck> => {
      const check = `read ${table}`;
      try {
        await withTimeout(
          bq.query({ query: `SELECT 1 AS ok FROM \`${cfg.projectId}.${cfg.dataset}.${table}\` LIMIT 1`, useLegacySql: false }),
          ctx.timeoutMs,
          `querying ${table}`,
        );
        return pass(service, check, 'query job ran');
      } catch (err) {
        const mapped = mapBigQueryError(err, { projectId: cfg.projectId, dataset: cfg.dataset, table, apiEndpoint: cfg.apiEndpoint, action: `querying ${table}` });
        return fail(service, check, mapped.message || errorText(err), fixFor(mapped, table));
      }
    }),
  );
  return [...out, ...tables];
}
