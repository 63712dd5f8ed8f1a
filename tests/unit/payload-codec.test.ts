import { describe, expect, it } from 'vitest';
import { defaultPayloadConverter, ApplicationFailure, type Payload } from '@temporalio/common';
import { encodeErrorToFailure, decodeOptionalFailureToOptionalError } from '@temporalio/common/lib/internal-non-workflow';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../../lib/codec/encryption-codec';
import { parseCodecKeys } from '../../lib/codec/keys';
import { dataConverterFor } from '../../lib/codec/data-converter';
import { failureConverter } from '../../lib/codec/failure-converter';
import { loadDataConverter } from '@temporalio/common/lib/internal-non-workflow';
import { buildConfig, ConfigError } from '../../config/config';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const keys = (text: string) => parseCodecKeys(text);
const PII = 'jeanne.dupont@example.com';
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1') + Object.values(p.metadata ?? {}).map((v) => Buffer.from(v).toString('latin1')).join('');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();

describe('EncryptionCodec', () => {
  const codec = new EncryptionCodec({ keys: keys(`k2:${key(2)},k1:${key(1)}`), compressAboveBytes: 1024 });

  it('round-trips a payload, marks it binary/encrypted with the key id, and hides the value', async () => {
    const plain = defaultPayloadConverter.toPayload({ email: PII, n: 1 });
    const [enc] = await codec.encode([plain]);
    expect(meta(enc, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(enc, KEY_ID_METADATA)).toBe('k2');
    expect(text(enc)).not.toContain(PII);
    expect(text(enc)).not.toContain('json/plain');
    const [dec] = await codec.decode([enc]);
    expect(defaultPayloadConverter.fromPayload(dec)).toEqual({ email: PII, n: 1 });
  });

  it('compresses payloads above the threshold before encrypting them (a webhook batch shrinks)', async () => {
    const batch = Array.from({ length: 200 }, (_, i) => ({ user_id: `user-${i}`, event_type: 'page viewed', properties: { path: '/pricing', email: PII } }));
    const plain = defaultPayloadConverter.toPayload(batch);
    const [enc] = await codec.encode([plain]);
    expect(enc.data!.length).toBeLessThan(plain.data!.length / 5);
    expect(defaultPayloadConverter.fromPayload((await codec.decode([enc]))[0])).toEqual(batch);
    // A small one is not compressed: its ciphertext is its serialised size plus IV, tag and format byte.
    const small = defaultPayloadConverter.toPayload('x');
    const [encSmall] = await codec.encode([small]);
    expect(encSmall.data!.length).toBeGreaterThan(small.data!.length + 28);
  });

  it('rotates: a payload written under the old key still decodes once a new key is first', async () => {
    const before = new EncryptionCodec({ keys: keys(`k1:${key(1)}`), compressAboveBytes: 1024 });
    const [old] = await before.encode([defaultPayloadConverter.toPayload(PII)]);
    const [fresh] = await codec.encode([defaultPayloadConverter.toPayload(PII)]);
    expect([meta(old, KEY_ID_METADATA), meta(fresh, KEY_ID_METADATA)]).toEqual(['k1', 'k2']);
    const decoded = await codec.decode([old, fresh]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([PII, PII]);
  });

  it('passes unencrypted payloads through, so histories from before encryption decode', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('says which key is missing, and refuses an altered payload', async () => {
    const other = new EncryptionCodec({ keys: keys(`k9:${key(9)}`), compressAboveBytes: 1024 });
    const [enc] = await other.encode([defaultPayloadConverter.toPayload(PII)]);
    await expect(codec.decode([enc])).rejects.toThrow(/key "k9", which TEMPORAL_CODEC_KEYS does not hold \(it holds "k2", "k1"\)/);
    const [mine] = await codec.encode([defaultPayloadConverter.toPayload(PII)]);
    mine.data![20] ^= 1;
    await expect(codec.decode([mine])).rejects.toThrow(/does not decrypt with key "k2"/);
    const impostor = new EncryptionCodec({ keys: keys(`k2:${key(3)}`), compressAboveBytes: 1024 });
    const [wrong] = await impostor.encode([defaultPayloadConverter.toPayload(PII)]);
    await expect(codec.decode([wrong])).rejects.toThrow(/does not decrypt with key "k2"/);
  });
});

describe('failures are encoded too', () => {
  it('moves message and stack trace into an encrypted attribute and restores them on decode', async () => {
    const converter = loadDataConverter(dataConverterFor({ keys: keys(`k1:${key(1)}`), compressAboveBytes: 1024 }));
    const failure = await encodeErrorToFailure(converter, ApplicationFailure.nonRetryable(`record ${PII} rejected`, 'Bad'));
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    expect(JSON.stringify(failure)).not.toContain(PII);
    expect(meta(failure.encodedAttributes!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    const back = (await decodeOptionalFailureToOptionalError(converter, failure))!;
    expect(back.message).toBe(`record ${PII} rejected`);
  });

  it('the converter module the bundle loads is the encoding one', () => {
    expect((failureConverter as unknown as { options: { encodeCommonAttributes: boolean } }).options.encodeCommonAttributes).toBe(true);
  });

  it('no keys: the SDK defaults (no codec, no failure converter path)', () => {
    expect(dataConverterFor(undefined)).toEqual({});
  });
});

describe('TEMPORAL_CODEC_KEYS', () => {
  it('is parsed into the config, first key first', () => {
    const c = buildConfig({ TEMPORAL_CODEC_KEYS: ` new:${key(5)} , old:${key(4)}`, TEMPORAL_CODEC_COMPRESS_ABOVE_BYTES: '2048' }, '/tmp');
    expect(c.temporal.codec?.keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(c.temporal.codec?.compressAboveBytes).toBe(2048);
    expect(buildConfig({}, '/tmp').temporal.codec).toBeUndefined();
  });

  it('refuses a bad list with a message that never quotes the key material', () => {
    const short = Buffer.alloc(16, 1).toString('base64');
    for (const [value, message] of [
      [`k1:${short}`, /key "k1": expected 32 bytes in base64 \(44 characters\), got 16 bytes/],
      [key(1), /key 1: expected id:base64/],
      [`k1:${key(1)},k1:${key(2)}`, /"k1" is listed twice/],
    ] as const) {
      let err: unknown;
      try {
        buildConfig({ TEMPORAL_CODEC_KEYS: value }, '/tmp');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toMatch(message);
      expect(problems).toContain('(set)');
      expect(problems).not.toContain(short);
      expect(problems).not.toContain(key(1));
    }
  });
});

describe('codec server settings', () => {
  it('allows the local Web UI under both of its names by default, or the origins given', () => {
    expect(buildConfig({}, '/tmp').codecServer).toMatchObject({ host: '127.0.0.1', port: 8888, origins: ['http://localhost:8233', 'http://127.0.0.1:8233'] });
    expect(buildConfig({ TEMPORAL_UI_URL: 'https://cloud.temporal.io' }, '/tmp').codecServer.origins).toEqual(['https://cloud.temporal.io']);
    expect(buildConfig({ CODEC_SERVER_ORIGINS: 'https://ui.novade.internal/, http://localhost:8080' }, '/tmp').codecServer.origins).toEqual(['https://ui.novade.internal', 'http://localhost:8080']);
    expect(() => buildConfig({ CODEC_SERVER_ORIGINS: 'https://ui.novade.internal/path' }, '/tmp')).toThrow(/CODEC_SERVER_ORIGINS: expected origins/);
  });
});
