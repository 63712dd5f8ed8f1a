/**
 * Masks what looks like personal data or a secret in a sample value before it is stored with a
 * violation (ops.tracking_violations is read by people who need the shape of the problem, not the
 * visitor's email). Deliberately eager: a masked order number costs nothing, a leaked token does.
 */

const RULES: [RegExp, string][] = [
  // JSON Web Tokens and bearer credentials.
  [/\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}/g, '<token>'],
  [/\b(?:bearer|basic)\s+[\w\-.~+/]+=*/gi, '<token>'],
  // Emails (a domain without a dot too: what a form lets through) before anything that would eat their digits.
  [/[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*/g, '<email>'],
  // Long mixed letter-and-digit strings: API keys, session ids, hashes, UUIDs.
  [/\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{20,}\b/g, '<token>'],
  [/\b(?:\d{1,3}\.){3}\d{1,3}\b/g, '<ip>'],
  // Phone numbers: international (+ or 00) or groups split by spaces, dots, dashes or parentheses.
  [/(?:\+|\b00)\d[\d\s().-]{6,}\d/g, '<phone>'],
  [/\(?\b\d{2,4}\)?[\s.-]\d{3,4}[\s.-]\d{3,4}\b/g, '<phone>'],
  // What is left of long digit runs: card, account, national id numbers.
  // (The fraction of a timestamp's seconds is not one.)
  [/(?<!:\d\d\.)\d{6,}/g, '<digits>'],
];

export function maskText(text: string): string {
  let out = text;
  for (const [re, by] of RULES) out = out.replace(re, by);
  return out;
}

/** The stored sample of a value: text as is, anything else as JSON, masked, at most `max` characters. */
export function maskedSample(value: unknown, max = 200): string | null {
  if (value === undefined) return null;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return null;
  const masked = maskText(text);
  return masked.length > max ? `${masked.slice(0, max - 1)}…` : masked;
}
