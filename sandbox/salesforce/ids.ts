/**
 * Salesforce record ids: 15 case-sensitive characters (key prefix, pod, counter) plus a 3-character
 * suffix that makes the 18-character form case-insensitive. Counters are written in base 62 with
 * digits before upper before lower case, so ids of one object compare (as plain strings) in
 * creation order, as real ids of one pod roughly do.
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

export const KEY_PREFIX = {
  Account: '001',
  Contact: '003',
  User: '005',
  Opportunity: '006',
  Organization: '00D',
  Lead: '00Q',
  /** Custom objects get a prefix of their own when created; `a0P` is the seeded org's Project__c. */
  Project__c: 'a0P',
  QueryLocator: '01g',
  BulkJob: '750',
} as const;

function base62(n: number, width: number): string {
  let out = '';
  let rest = Math.floor(n);
  while (rest > 0) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out.padStart(width, '0');
}

/** The documented checksum: one character per 5-character chunk, bit i set when char i is upper case. */
export function caseSafeSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let flags = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) flags |= 1 << i;
    }
    suffix += SUFFIX_ALPHABET[flags];
  }
  return suffix;
}

/** The 18-character id for a 15- or 18-character one; undefined when it is not an id at all. */
export function toId18(id: string): string | undefined {
  if (id.length === 18) return id.slice(0, 15) + caseSafeSuffix(id.slice(0, 15)) === id ? id : undefined;
  if (id.length === 15) return id + caseSafeSuffix(id);
  return undefined;
}

/** Id number `n` for a key prefix, e.g. `sfId('003', 1)` → `0035g00000000001AAA`-like. */
export function sfId(prefix: string, n: number): string {
  const id15 = `${prefix}5g0${base62(n, 9)}`;
  return id15 + caseSafeSuffix(id15);
}

export const ORG_ID = sfId(KEY_PREFIX.Organization, 4_718_211);
