import type { AppConfig } from '../config/config';
import type { Logger } from '../config/logger';
import { encryptionCodec } from '../lib/codec/data-converter';
import { startCodecServer, type RunningCodecServer } from '../lib/codec/codec-server';

export class NoCodecKeysError extends Error {
  constructor() {
    super('TEMPORAL_CODEC_KEYS is not set: payloads are not encrypted, so there is nothing for a codec server to decode (docs/privacy-and-secrets.md says how to make keys)');
    this.name = 'NoCodecKeysError';
  }
}

/** The codec server of this configuration's keys, namespace, token and allowed origins. */
export async function startConfiguredCodecServer(config: AppConfig, log: Logger, overrides: { host?: string; port?: number } = {}): Promise<RunningCodecServer> {
  const codec = config.temporal.codec;
  if (!codec) throw new NoCodecKeysError();
  return startCodecServer({
    codec: encryptionCodec(codec),
    namespace: config.temporal.namespace,
    host: overrides.host ?? config.codecServer.host,
    port: overrides.port ?? config.codecServer.port,
    token: config.codecServer.token,
    origins: config.codecServer.origins,
    log,
  });
}
