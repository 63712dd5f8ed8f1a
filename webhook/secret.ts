import { createHash, timingSafeEqual } from 'node:crypto';

export type HeaderBag = Record<string, string | string[] | undefined>;

/** First value of a header, by lower-case name. */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Compares the secret in constant time. Both sides are hashed first so that neither the length nor
 * a common prefix of the expected secret shows in the timing.
 */
export function secretMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined || expected.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, expectedDigest(expected));
}

/** The configured secret's digest, computed once (every request is checked twice: route and handler). */
let cached: { secret: string; digest: Buffer } | undefined;
function expectedDigest(expected: string): Buffer {
  if (cached?.secret !== expected) cached = { secret: expected, digest: createHash('sha256').update(expected).digest() };
  return cached.digest;
}

/**
 * Whether `given` is one of `accepted`, in constant time: every key is compared (hashed, as above),
 * so neither which key matched nor how many there are shows in the timing.
 */
export function keyMatchesAny(given: string, accepted: readonly string[]): boolean {
  const digest = createHash('sha256').update(given).digest();
  let match = false;
  for (const key of accepted) {
    if (key.length === 0) continue;
    // No early exit: `match ||` would skip the comparisons after the first hit.
    match = timingSafeEqual(digest, createHash('sha256').update(key).digest()) || match;
  }
  return match;
}
