import { z } from 'zod';
import { PermanentError } from '../../lib/errors';
import { describeAnswerSchema, type SObjectDescribe } from '../../mappings/salesforce-describe';
import { connectSalesforce, credentialsHint, type SalesforceAuthConfig, type SalesforceSession } from './auth';
import { errorCodeOf, toSalesforceError } from './errors';

/**
 * Salesforce's describe calls through jsforce: `/sobjects/<Object>/describe` (fields, types,
 * compounds, formulas) and `/sobjects` (the objects the integration user can query). Answers are
 * validated with zod: a shape we do not understand is our failure to report, not data to guess at.
 * Each call costs one API request of the org's daily allowance.
 */

const globalSchema = z.looseObject({
  sobjects: z.array(z.looseObject({ name: z.string().min(1), label: z.string().optional(), custom: z.boolean().optional(), queryable: z.boolean().optional() })),
});

export interface SObjectSummary {
  name: string;
  label: string;
  custom: boolean;
}

export interface SalesforceDescriber {
  describe(object: string): Promise<SObjectDescribe>;
  /** Queryable objects, standard and custom. */
  objects(): Promise<SObjectSummary[]>;
}

function invalidAnswer(what: string, error: z.ZodError): PermanentError {
  return new PermanentError('InvalidResponse', `Salesforce answered ${what} in a shape novade-sync does not understand: ${z.prettifyError(error).split('\n').slice(0, 4).join('; ')}`);
}

/** A describer over an open session (the reader's, or one of its own). */
export function sessionDescriber(session: SalesforceSession): SalesforceDescriber {
  const ctx = (doing: string) => ({ doing, credentialsHint: session.credentialsHint, lastAuthError: session.lastAuthError() });
  return {
    async describe(object) {
      let raw: unknown;
      try {
        // Not describe$ (jsforce's cached variant): schema evolution needs the org as it is now.
        raw = await session.conn.describe(object);
      } catch (err) {
        const code = errorCodeOf(err);
        if (code === 'NOT_FOUND' || code === 'INVALID_TYPE' || code === 'ERROR_HTTP_404')
          throw new PermanentError(
            'ConfigError',
            `Salesforce has no object ${object} the integration user can see: check its API name (custom objects end in __c) and that the user's profile or permission set grants Read on it.`,
            { cause: err },
          );
        throw toSalesforceError(err, ctx(`describing ${object}`));
      }
      const parsed = describeAnswerSchema.safeParse(raw);
      if (!parsed.success) throw invalidAnswer(`the describe of ${object}`, parsed.error);
      return parsed.data;
    },
    async objects() {
      let raw: unknown;
      try {
        raw = await session.conn.describeGlobal();
      } catch (err) {
        throw toSalesforceError(err, ctx('listing objects'));
      }
      const parsed = globalSchema.safeParse(raw);
      if (!parsed.success) throw invalidAnswer('the list of objects', parsed.error);
      return parsed.data.sobjects.filter((o) => o.queryable !== false).map((o) => ({ name: o.name, label: o.label ?? o.name, custom: o.custom ?? o.name.endsWith('__c') }));
    },
  };
}

/** A describer that logs in on first use (CLI commands, the worker's describe activity). */
export function createSalesforceDescriber(cfg: SalesforceAuthConfig, connect: (cfg: SalesforceAuthConfig) => Promise<SalesforceSession> = connectSalesforce): SalesforceDescriber {
  let session: Promise<SalesforceDescriber> | undefined;
  const open = () => {
    session ??= connect(cfg).then(sessionDescriber, (err: unknown) => {
      session = undefined;
      throw toSalesforceError(err, { doing: 'logging in', credentialsHint: credentialsHint(cfg) });
    });
    return session;
  };
  return {
    describe: async (object) => (await open()).describe(object),
    objects: async () => (await open()).objects(),
  };
}
