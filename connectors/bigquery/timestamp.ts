/**
 * BigQuery TIMESTAMPs as epoch microseconds (BigQuery's precision; exact in a double until year
 * 2255) and one canonical text form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, which sorts like the instant it
 * names, so keyset cursors compare as plain strings and survive a round trip without losing digits.
 */
export function parseIsoMicros(iso: string): number {
  const m = /^(.*?)(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})$/.exec(iso.trim());
  const ms = Date.parse(m ? `${m[1]}${m[3]}` : iso);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${JSON.stringify(iso)}`);
  const fraction = ((m?.[2] ?? '') + '000000').slice(0, 6);
  return ms * 1000 + (m ? Number(fraction) : 0);
}

export function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  return `${new Date(ms).toISOString().slice(0, -1)}${String(rest).padStart(3, '0')}Z`;
}

/** Any ISO-8601 timestamp (with zone) in the canonical form. */
export function canonicalTimestamp(iso: string): string {
  return isoMicros(parseIsoMicros(iso));
}

export const MICROS_PER_SECOND = 1_000_000;
export const MICROS_PER_HOUR = 3600 * MICROS_PER_SECOND;
export const MICROS_PER_DAY = 24 * MICROS_PER_HOUR;
