/**
 * Who an Amplitude event is about. The user_id is the key Salesforce, Drift and the website share
 * (by default the lower-cased email), so the same person lands on one Amplitude profile whatever
 * the source. A record with no usable id is not sent: the caller dead-letters it with `reason`.
 */

export type UserIdResult = { ok: true; userId: string } | { ok: false; reason: string };

/** Amplitude refuses these ids outright, whatever min_id_length says (HTTP V2 documentation). */
const AMPLITUDE_INVALID_IDS = new Set(['anonymous', 'nil', 'none', 'null', 'n/a', 'na', 'undefined', 'unknown', '""', '00000000-0000-0000-0000-000000000000', '{}', 'lmy47d', '0', '-1']);
/** Amplitude's documented limit for ids and property strings. */
export const AMPLITUDE_MAX_STRING = 1024;

// Deliberately loose: one @, no spaces, a dot in the domain. Stricter checks reject real addresses.
const PLAUSIBLE_EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

export function isPlausibleEmail(value: string): boolean {
  return PLAUSIBLE_EMAIL.test(value);
}

/** Trimmed and lower-cased: `Jane.Doe@Example.com ` and `jane.doe@example.com` are one person. */
export function normalizeEmail(value: string): string {
  return value.trim().toLowerCase();
}

/** A field holds emails when its name says so (Email, Work_Email__c...): those get the email rules. */
export function isEmailField(field: string): boolean {
  return /email/i.test(field);
}

/**
 * The Amplitude user_id for a source value. Email fields are normalised and must look like an
 * email; other configured fields (an external id, say) are only trimmed, since lower-casing could
 * merge ids that differ only by case (15-character Salesforce ids do).
 */
export function resolveUserId(value: unknown, opts: { field: string; minIdLength: number }): UserIdResult {
  if (value === null || value === undefined) return { ok: false, reason: `no ${opts.field}: cannot identify the person in Amplitude` };
  if (typeof value !== 'string') return { ok: false, reason: `${opts.field} is not text (${typeof value})` };
  const email = isEmailField(opts.field);
  const id = email ? normalizeEmail(value) : value.trim();
  if (id === '') return { ok: false, reason: `empty ${opts.field}: cannot identify the person in Amplitude` };
  if (email && !isPlausibleEmail(id)) return { ok: false, reason: `${opts.field} "${truncate(id, 80)}" is not a valid email address` };
  if (id.length < opts.minIdLength) return { ok: false, reason: `${opts.field} "${id}" is shorter than Amplitude's minimum id length (${opts.minIdLength})` };
  if (id.length > AMPLITUDE_MAX_STRING) return { ok: false, reason: `${opts.field} is longer than Amplitude's ${AMPLITUDE_MAX_STRING}-character limit` };
  if (AMPLITUDE_INVALID_IDS.has(id.toLowerCase())) return { ok: false, reason: `${opts.field} "${id}" is a placeholder Amplitude refuses as an id` };
  return { ok: true, userId: id };
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n)}…`;
}
