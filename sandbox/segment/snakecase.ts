/**
 * Segment's warehouses name tables and columns with github.com/segmentio/go-snakecase (its warehouse
 * schema page says so). This is a port of that function: it works on the UTF-8 bytes, so every
 * non-ASCII character is a separator, as in Go ("Rapport exporté" -> "rapport_export").
 */
const UNDERSCORE = 0x5f;
const isUpper = (c: number) => c >= 0x41 && c <= 0x5a;
const isLower = (c: number) => c >= 0x61 && c <= 0x7a;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlphanumeric = (c: number) => isLower(c) || isUpper(c) || isDigit(c);
const lower = (c: number) => (isUpper(c) ? c + 32 : c);

export function snakecase(text: string): string {
  const s = Buffer.from(text, 'utf8');
  let idx = 0;
  let hasLower = false;
  let hasUnderscore = false;
  let lowercaseSinceUnderscore = false;

  // The leading run that needs no change: lower-case letters, digits, and underscores followed by one of them.
  for (; idx < s.length; idx++) {
    const c = s[idx];
    if (isLower(c)) {
      hasLower = true;
      if (hasUnderscore) lowercaseSinceUnderscore = true;
      continue;
    }
    if (isDigit(c)) continue;
    if (c === UNDERSCORE && idx > 0 && idx < s.length - 1 && (isLower(s[idx + 1]) || isDigit(s[idx + 1]))) {
      hasUnderscore = true;
      lowercaseSinceUnderscore = false;
      continue;
    }
    break;
  }
  if (idx === s.length) return text;

  const out: number[] = [...s.subarray(0, idx)];
  if (isUpper(s[idx]) && (!hasLower || (hasUnderscore && !lowercaseSinceUnderscore))) {
    while (idx < s.length && (isUpper(s[idx]) || isDigit(s[idx]))) out.push(lower(s[idx++]));
    while (idx < s.length && (isLower(s[idx]) || isDigit(s[idx]))) out.push(s[idx++]);
  }
  while (idx < s.length) {
    if (!isAlphanumeric(s[idx])) {
      idx++;
      continue;
    }
    if (out.length > 0) out.push(UNDERSCORE);
    while (idx < s.length && (isUpper(s[idx]) || isDigit(s[idx]))) out.push(lower(s[idx++]));
    while (idx < s.length && (isLower(s[idx]) || isDigit(s[idx]))) out.push(s[idx++]);
  }
  return Buffer.from(out).toString('latin1');
}
