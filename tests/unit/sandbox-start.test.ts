import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../config/config';
import { SANDBOX } from '../../config/sandbox-endpoints';
import { sandboxEnv } from '../../sandbox/start';

/** How the Segment emulator is wired into sandbox mode: the destination of the Segment forward. */
describe('sandbox wiring of the Segment emulator', () => {
  it('SEGMENT_FORWARD=on without a forward key leaves Segment to the sandbox and forwards to its emulator', () => {
    const config = buildConfig({ SEGMENT_FORWARD: 'on' }, '/tmp/novade-sandbox-start');
    expect(config.sandboxed).toContain('segment');
    expect(config.segment.forward).toEqual({ enabled: true, endpoint: SANDBOX.segment.url, writeKey: SANDBOX.segment.writeKey });
    expect(buildConfig({}, '/tmp/novade-sandbox-start').sandboxed).not.toContain('segment');
  });

  it('the variables npm run sandbox prints target the emulator explicitly, as if it were Segment', () => {
    const env = sandboxEnv(['bigquery', 'segment']);
    expect(env).toMatchObject({ SEGMENT_FORWARD: 'on', SEGMENT_FORWARD_ENDPOINT: SANDBOX.segment.url, SEGMENT_FORWARD_WRITE_KEY: SANDBOX.segment.writeKey });
    const config = buildConfig(env, '/tmp/novade-sandbox-start');
    expect(config.sandboxed).not.toContain('segment');
    expect(config.segment.forward).toEqual({ enabled: true, endpoint: SANDBOX.segment.url, writeKey: SANDBOX.segment.writeKey });
    expect(sandboxEnv(['bigquery'])).not.toHaveProperty('SEGMENT_FORWARD');
  });
});
