/**
 * Payload encryption keys, from TEMPORAL_CODEC_KEYS: `id:base64` pairs separated by commas. The first
 * key encrypts; every key decrypts, so a key is rotated by putting the new one first and keeping the
 * old one after it until no open workflow (nor retained history) holds payloads it encrypted.
 */
export interface CodecKey {
  id: string;
  /** 32 bytes: AES-256. */
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses the list; throws an Error whose message never quotes key material. */
export function parseCodecKeys(text: string): CodecKey[] {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error('expected at least one id:base64 key');
  const keys: CodecKey[] = [];
  for (const [i, part] of parts.entries()) {
    const sep = part.indexOf(':');
    const id = sep > 0 ? part.slice(0, sep) : '';
    if (!KEY_ID.test(id)) throw new Error(`key ${i + 1}: expected id:base64 with an id of letters, digits, . _ - (for example novade-2025-01:$(openssl rand -base64 32))`);
    const b64 = part.slice(sep + 1);
    const key = Buffer.from(b64, 'base64');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || key.length !== 32)
      throw new Error(`key "${id}": expected 32 bytes in base64 (44 characters), got ${key.length} bytes (generate one with: openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new Error(`key "${id}" is listed twice: each key needs its own id`);
    keys.push({ id, key });
  }
  return keys;
}
