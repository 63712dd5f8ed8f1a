import { z } from 'zod';
import { connectSalesforce, credentialsHint, errorCodeOf, toSalesforceError, type SalesforceSession } from '../../connectors/salesforce';
import { fieldsReadByRules, salesforceDeclarations } from '../../streams/salesforce';
import { loadStreamsFile, StreamsFileError } from '../../streams/config/load';
import type { StreamsFile } from '../../streams/config/schema';
import { errorText, fail, pass, SANDBOX_FIX, serviceLabel, withTimeout, type DoctorCheck, type DoctorContext } from './types';

const limitsSchema = z.looseObject({ DailyApiRequests: z.object({ Max: z.number(), Remaining: z.number() }) });
const describeSchema = z.looseObject({ name: z.string(), queryable: z.boolean(), fields: z.array(z.looseObject({ name: z.string() })) });

const API_DISABLED = new Set(['API_DISABLED_FOR_ORG', 'API_CURRENTLY_DISABLED', 'FUNCTIONALITY_NOT_ENABLED']);
const NO_ACCESS = new Set(['INVALID_TYPE', 'NOT_FOUND', 'INSUFFICIENT_ACCESS', 'INSUFFICIENT_ACCESS_OR_READONLY']);
const isNetwork = (err: unknown) => /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|fetch failed|socket hang up|ECONNRESET|no answer within/i.test(`${errorText(err)} ${errorText((err as { cause?: unknown })?.cause)}`);

/**
 * Salesforce: login with the configured flow, the REST API usable (API Enabled), the daily API
 * allowance left, and read access to every object and field the streams sync (describe).
 */
export async function salesforceChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const cfg = ctx.config.salesforce;
  const service = serviceLabel(ctx.config, 'salesforce');
  const sandboxed = ctx.config.sandboxed.includes('salesforce');
  let session: SalesforceSession;
  try {
    session = await withTimeout(connectSalesforce(cfg), ctx.timeoutMs, `logging in at ${cfg.loginUrl}`);
  } catch (err) {
    if (isNetwork(err))
      return [fail(service, 'login', `cannot reach ${cfg.loginUrl}: ${errorText(err)}`, sandboxed ? SANDBOX_FIX : 'check SALESFORCE_LOGIN_URL (your My Domain URL, e.g. https://novade.my.salesforce.com) and the network')];
    return [fail(service, 'login', `${cfg.auth} flow refused: ${errorCodeOf(err) || 'error'}: ${errorText(err)}`, `check ${credentialsHint(cfg)}, and that the connected app allows the ${cfg.auth} flow for the integration user`)];
  }
  const { conn } = session;
  const out: DoctorCheck[] = [pass(service, 'login', `${cfg.auth} flow as ${conn.instanceUrl}`)];

  // /limits is the cheapest REST call: it proves the API is enabled for the user and reads the allowance.
  try {
    const limits = limitsSchema.parse(await withTimeout(conn.request(`/limits`), ctx.timeoutMs, 'reading /limits'));
    out.push(pass(service, 'API enabled', `REST API v${cfg.apiVersion} answers`));
    const { Max, Remaining } = limits.DailyApiRequests;
    const usedShare = Max > 0 ? (Max - Remaining) / Max : 1;
    const detail = `${Remaining.toLocaleString('en-US')} of ${Max.toLocaleString('en-US')} left (${Math.round(usedShare * 100)} % used)`;
    out.push(
      usedShare < cfg.apiUsageStopShare
        ? pass(service, 'daily API calls', detail, false)
        : fail(service, 'daily API calls', `${detail}: syncs stop at ${Math.round(cfg.apiUsageStopShare * 100)} % (SALESFORCE_API_USAGE_STOP_SHARE)`, 'wait for the rolling 24-hour window to free calls, find which integration uses them (Setup > System Overview), or raise SALESFORCE_API_USAGE_STOP_SHARE', false),
    );
  } catch (err) {
    const code = errorCodeOf(err);
    out.push(
      API_DISABLED.has(code)
        ? fail(service, 'API enabled', `${code}: ${errorText(err)}`, 'give the integration user the "API Enabled" permission (profile or permission set); the org edition must include API access')
        : fail(service, 'API enabled', toSalesforceError(err, { doing: 'reading /limits', credentialsHint: credentialsHint(cfg) }).message, 'check the integration user\'s API access and SALESFORCE_API_VERSION'),
    );
    return out;
  }

  let file: StreamsFile;
  try {
    file = loadStreamsFile(ctx.config.streams.file);
  } catch (err) {
    const problems = err instanceof StreamsFileError ? err.problems : [errorText(err)];
    return [...out, fail(service, 'streams file', problems.join('\n'), 'fix each line of the streams file (docs/streams.md)')];
  }
  const objects = file.salesforce?.objects ?? [];
  const decls = salesforceDeclarations(file.salesforce, { userIdField: cfg.userIdFieldOverride });
  const described = await Promise.all(
    decls.map(async (decl, i): Promise<DoctorCheck[]> => {
      // Fields whose types come from describe are not listed before it: check those the file names.
      const o = objects[i];
      const fields = decl.fields.length > 0 ? decl.fields : [...(Array.isArray(o.fields) ? o.fields : []), ...fieldsReadByRules(o)];
      const check = `read ${decl.object}`;
      try {
        const d = describeSchema.parse(await withTimeout(conn.request(`/sobjects/${decl.object}/describe`), ctx.timeoutMs, `describing ${decl.object}`));
        if (!d.queryable) return [fail(service, check, `${decl.object} is not queryable for the integration user`, `give the integration user Read on ${decl.object} (profile or permission set)`)];
        const visible = new Set(d.fields.map((f) => f.name.toLowerCase()));
        const missing = [...new Set(fields)].filter((f) => !visible.has(f.toLowerCase()));
        const readable = pass(service, check, `${decl.fields.length > 0 ? decl.fields.length - missing.length : d.fields.length} fields readable`);
        // One line per field: each names the permission an admin grants for it.
        return [readable, ...missing.map((f) => unreadableField(service, decl.object, f, f === cfg.userIdField))];
      } catch (err) {
        const code = errorCodeOf(err);
        if (NO_ACCESS.has(code)) return [fail(service, check, `${code}: ${errorText(err)}`, `give the integration user Read on ${decl.object} (profile or permission set)`)];
        return [fail(service, check, toSalesforceError(err, { doing: `describing ${decl.object}`, credentialsHint: credentialsHint(cfg) }).message, 'try again; if it persists, check the Salesforce status page')];
      }
    }),
  );
  return [...out, ...described.flat()];
}

/**
 * A field the streams file reads that describe does not show the integration user: hidden by
 * field-level security (the usual case for a new custom field) or missing in this org.
 */
export function unreadableField(service: string, object: string, field: string, isUserIdField = false): DoctorCheck {
  return fail(
    service,
    `read ${object}.${field}`,
    `${object}.${field} is not visible to the integration user (not in describe): hidden by field-level security, or not a field of this org`,
    `grant Read on ${object}.${field}: Setup > Object Manager > ${object} > Fields & Relationships > ${field} > Set Field-Level Security, tick Visible for the integration user's profile ` +
      `(or Object Settings > ${object} > Field Permissions > Read Access in a permission set assigned to it); or remove ${field} from the streams file${isUserIdField ? ', or change SALESFORCE_USER_ID_FIELD' : ''}`,
  );
}
