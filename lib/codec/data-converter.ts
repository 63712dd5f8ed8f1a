import path from 'node:path';
import fs from 'node:fs';
import type { DataConverter } from '@temporalio/common';
import { EncryptionCodec } from './encryption-codec';
import type { CodecKey } from './keys';

/** The payload codec settings of AppConfig.temporal.codec (absent: payloads stay plain, as before). */
export interface CodecSettings {
  keys: CodecKey[];
  compressAboveBytes: number;
}

/** The failure converter module, as the bundler and the SDK load it: the source under tsx/vitest, else the build. */
export const FAILURE_CONVERTER_PATH = ['failure-converter.ts', 'failure-converter.js'].map((f) => path.join(__dirname, f)).find((f) => fs.existsSync(f)) ?? path.join(__dirname, 'failure-converter');

const codecs = new WeakMap<CodecSettings, EncryptionCodec>();

/** One codec per settings object: a worker and the clients of a process share it. */
export function encryptionCodec(settings: CodecSettings): EncryptionCodec {
  let codec = codecs.get(settings);
  if (!codec) codecs.set(settings, (codec = new EncryptionCodec(settings)));
  return codec;
}

/**
 * The data converter of every client and worker of the platform, built from config in this one place:
 * with keys, payloads are encrypted and failure messages encoded; without, the SDK's defaults.
 */
export function dataConverterFor(codec: CodecSettings | undefined): DataConverter {
  if (!codec) return {};
  return { payloadCodecs: [encryptionCodec(codec)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** Options for bundleWorkflowCode, so a prebuilt bundle encodes failures like the worker does. */
export function bundlerOptionsFor(codec: CodecSettings | undefined): { failureConverterPath?: string } {
  return codec ? { failureConverterPath: FAILURE_CONVERTER_PATH } : {};
}
