/**
 * Salesforce timestamps. REST answers write `2024-01-02T03:04:05.000+0000`; Bulk API 2.0 CSV writes
 * `2024-01-02T03:04:05.000Z`. Audit fields (CreatedDate, SystemModstamp...) have second precision,
 * which is why many records share one SystemModstamp.
 */
export function toSfDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export function toBulkDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

export function toSfDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function truncateToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}(?::?\d{2})?)$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Epoch ms of a SOQL / REST datetime (`2024-01-01T00:00:00Z`, `...00.000+0000`, `...+00:00`),
 * or undefined when the text is not one.
 */
export function parseSfDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const zone = m[8];
  let offsetMin = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMin = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0')) * (zone[0] === '-' ? -1 : 1);
  }
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], m[7] ? Number(m[7].slice(1).padEnd(3, '0')) : 0);
  if (Number.isNaN(ms) || new Date(Date.UTC(+m[1], +m[2] - 1, +m[3])).getUTCDate() !== +m[3]) return undefined;
  return ms - offsetMin * 60_000;
}

/** True for a `YYYY-MM-DD` that is a real calendar day. */
export function isSfDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}
