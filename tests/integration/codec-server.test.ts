import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createLogger } from '../../config/logger';
import { buildConfig } from '../../config/config';
import { startCodecServer, type RunningCodecServer } from '../../lib/codec/codec-server';
import { EncryptionCodec } from '../../lib/codec/encryption-codec';
import { parseCodecKeys } from '../../lib/codec/keys';
import { connectTemporal } from '../../lib/temporal';
import { startConfiguredCodecServer } from '../../client/codec-server';
import { startDevServer } from '../helpers/temporal';
import { TEMPORAL_CLI } from '../helpers/paths';

const log = createLogger({ level: 'silent' });
const KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
const codec = new EncryptionCodec({ keys: parseCodecKeys(KEYS), compressAboveBytes: 1024 });
const UI = 'http://localhost:8233';
const TOKEN = 'codec-test-token-5b1f';

let open: RunningCodecServer;
let guarded: RunningCodecServer;
beforeAll(async () => {
  open = await startCodecServer({ codec, namespace: 'default', host: '127.0.0.1', port: 0, origins: [UI], log });
  guarded = await startCodecServer({ codec, namespace: 'default', host: '127.0.0.1', port: 0, origins: [UI], token: TOKEN, log });
});
afterAll(async () => {
  await Promise.all([open?.close(), guarded?.close()]);
});

const post = (server: RunningCodecServer, op: 'encode' | 'decode', body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/${op}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers }, body: JSON.stringify(body) });
const jsonPayload = (value: unknown) => {
  const p = defaultPayloadConverter.toPayload(value);
  return { metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data!).toString('base64') };
};

describe('codec server (the Web UI protocol)', () => {
  it('encodes and decodes {payloads:[...]} in the JSON shape the UI sends', async () => {
    const enc = await post(open, 'encode', { payloads: [jsonPayload({ email: 'a@b.example' })] }, { Origin: UI });
    expect(enc.status).toBe(200);
    expect(enc.headers.get('access-control-allow-origin')).toBe(UI);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(encoded.payloads[0].data, 'base64').toString('latin1')).not.toContain('a@b.example');
    const dec = await post(open, 'decode', encoded, { Origin: UI });
    const decoded = (await dec.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(JSON.parse(Buffer.from(decoded.payloads[0].data, 'base64').toString())).toEqual({ email: 'a@b.example' });
    expect(Buffer.from(decoded.payloads[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
  });

  it('answers the preflight of the UI origin only, allowing X-Namespace', async () => {
    const ok = await fetch(`${open.url}/decode`, { method: 'OPTIONS', headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/);
    const evil = await fetch(`${open.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    const r = await post(open, 'decode', { payloads: [] }, { Origin: 'https://evil.example' });
    expect(r.status).toBe(403);
    expect(((await r.json()) as { message: string }).message).toContain('CODEC_SERVER_ORIGINS');
  });

  it('with a token: refuses a caller with neither token nor allowed origin, accepts either', async () => {
    const none = await post(guarded, 'decode', { payloads: [] });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { message: string }).message).toContain('Bearer');
    expect((await post(guarded, 'decode', { payloads: [] }, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(guarded, 'decode', { payloads: [] }, { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await post(guarded, 'decode', { payloads: [] }, { Origin: UI })).status).toBe(200);
  });

  it('refuses another namespace, a bad body and a payload of a key it does not hold, saying why', async () => {
    const ns = await post(open, 'decode', { payloads: [] }, { 'X-Namespace': 'other' });
    expect(ns.status).toBe(403);
    expect(((await ns.json()) as { message: string }).message).toContain('namespace default, not other');
    expect((await post(open, 'decode', { payloads: 'nope' })).status).toBe(400);
    const foreign = new EncryptionCodec({ keys: parseCodecKeys(`k9:${Buffer.alloc(32, 9).toString('base64')}`), compressAboveBytes: 1024 });
    const [p] = await foreign.encode([defaultPayloadConverter.toPayload('x')]);
    const body = { payloads: [{ metadata: Object.fromEntries(Object.entries(p.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(p.data!).toString('base64') }] };
    const r = await post(open, 'decode', body);
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toContain('key "k9"');
  });

  it('will not listen beyond loopback without a token, and needs keys', async () => {
    await expect(startCodecServer({ codec, namespace: 'default', host: '0.0.0.0', port: 0, origins: [UI], log })).rejects.toThrow(/CODEC_SERVER_TOKEN/);
    await expect(startConfiguredCodecServer(buildConfig({}, '/tmp'), log)).rejects.toThrow(/TEMPORAL_CODEC_KEYS is not set/);
  });
});

describe('the temporal CLI decodes a workflow input through the codec server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await startDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('stores ciphertext, and `temporal workflow show --codec-endpoint` prints the plain input', async () => {
    const config = buildConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_CODEC_KEYS: KEYS, CODEC_SERVER_TOKEN: TOKEN }, '/tmp');
    const temporal = await connectTemporal(config.temporal);
    const server = await startConfiguredCodecServer(config, log, { port: 0 });
    try {
      const workflowId = `codec-cli-${Date.now()}`;
      await temporal.client.workflow.start('syncSourceWorkflow', { taskQueue: 'codec-cli-no-worker', workflowId, args: [{ email: 'cli.decoded@novade-test.example' }] });
      const input = async (args: string[]) => {
        const { stdout } = await promisify(execFile)(TEMPORAL_CLI, ['workflow', 'show', '--workflow-id', workflowId, '--address', env.address, '--output', 'json', ...args]);
        const started = (JSON.parse(stdout) as { events: { workflowExecutionStartedEventAttributes?: { input: { payloads: { metadata: { encoding: string }; data: string }[] } } }[] }).events[0];
        const p = started.workflowExecutionStartedEventAttributes!.input.payloads[0];
        return { encoding: Buffer.from(p.metadata.encoding, 'base64').toString(), data: Buffer.from(p.data, 'base64').toString('latin1') };
      };
      const stored = await input([]);
      expect(stored.encoding).toBe('binary/encrypted');
      expect(stored.data).not.toContain('cli.decoded@novade-test.example');
      const decoded = await input(['--codec-endpoint', server.url, '--codec-auth', `Bearer ${TOKEN}`]);
      expect(decoded).toEqual({ encoding: 'json/plain', data: JSON.stringify({ email: 'cli.decoded@novade-test.example' }) });
      await temporal.client.workflow.getHandle(workflowId).terminate();
    } finally {
      await server.close();
      await temporal.close();
    }
  });
});
