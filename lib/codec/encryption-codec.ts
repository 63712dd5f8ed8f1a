import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { CodecKey } from './keys';

/**
 * AES-256-GCM payload codec. Each payload is serialised whole (metadata and data: the encoding says
 * what the data is) and encrypted; the result carries only `encoding: binary/encrypted`, the key id
 * and the cipher. Layout of data: 12-byte IV, ciphertext, 16-byte tag, as in Temporal's samples.
 *
 * The plaintext starts with one format byte, so whether a payload was compressed is authenticated and
 * not visible: 0 = the serialised payload, 1 = gzip of it (payloads above `compressAboveBytes`, e.g.
 * webhook batches, cost less history). Payloads that are not `binary/encrypted` decode unchanged, so
 * histories written before encryption was switched on keep replaying.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES256GCM';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const RAW = 0;
const GZIP = 1;

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class UnknownCodecKeyError extends Error {
  constructor(keyId: string, known: string[]) {
    super(
      `a payload is encrypted with key "${keyId}", which TEMPORAL_CODEC_KEYS does not hold (it holds ${known.map((k) => `"${k}"`).join(', ')}): ` +
        'add that key back after the current one (keys after the first only decrypt)',
    );
    this.name = 'UnknownCodecKeyError';
  }
}

export interface EncryptionCodecOptions {
  keys: CodecKey[];
  /** Serialised payloads larger than this are gzipped before encryption. */
  compressAboveBytes: number;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(private readonly opts: EncryptionCodecOptions) {
    if (opts.keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    this.current = opts.keys[0];
    this.byId = new Map(opts.keys.map((k) => [k.id, k.key]));
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  encrypt(payload: Payload): Payload {
    const serialised = temporal.api.common.v1.Payload.encode(payload).finish();
    const compress = serialised.length > this.opts.compressAboveBytes;
    const body = compress ? gzipSync(serialised) : serialised;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    const encrypted = Buffer.concat([cipher.update(Buffer.from([compress ? GZIP : RAW])), cipher.update(body), cipher.final()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(this.current.id), [CIPHER_METADATA]: utf8(CIPHER) },
      data: Buffer.concat([iv, encrypted, cipher.getAuthTag()]),
    };
  }

  decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new Error(`an encrypted payload has no ${KEY_ID_METADATA} metadata: it was not written by this codec`);
    const key = this.byId.get(keyId);
    if (!key) throw new UnknownCodecKeyError(keyId, this.keyIds);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES + 1) throw new Error(`an encrypted payload (key "${keyId}") is truncated: ${data.length} bytes`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new Error(`an encrypted payload does not decrypt with key "${keyId}": the key under that id differs from the one that encrypted it, or the payload was altered`);
    }
    const body = plain.subarray(1);
    const serialised = plain[0] === GZIP ? gunzipSync(body) : body;
    return temporal.api.common.v1.Payload.decode(serialised);
  }
}
