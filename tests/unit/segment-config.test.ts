import { describe, expect, it } from 'vitest';
import { buildConfig, ConfigError } from '../../config/config';
import { SANDBOX } from '../../config/sandbox-endpoints';

/** The website-tracking settings: what each variable turns into, and the errors a typo gets. */

const problems = (env: NodeJS.ProcessEnv): string[] => {
  try {
    buildConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
};

describe('website tracking configuration', () => {
  it('accepts the sandbox write key out of production, none in production, and the listed keys otherwise', () => {
    expect(buildConfig({}).segment).toEqual({
      writeKeys: [SANDBOX.segment.writeKey],
      corsOrigins: [],
      forward: { enabled: false, endpoint: 'https://api.segment.io', writeKey: '' },
      amplitudeGroupType: undefined,
    });
    expect(buildConfig({ NODE_ENV: 'production', WEBHOOK_SECRET: 's' }).segment.writeKeys).toEqual([]);
    const c = buildConfig({ SEGMENT_WRITE_KEYS: ' wk_site_1 , wk_server_2 ', SEGMENT_CORS_ORIGINS: 'https://www.novade.com,https://novade.com', SEGMENT_AMPLITUDE_GROUP_TYPE: 'company' });
    expect(c.segment).toMatchObject({ writeKeys: ['wk_site_1', 'wk_server_2'], corsOrigins: ['https://www.novade.com', 'https://novade.com'], amplitudeGroupType: 'company' });
  });

  it('forwards to Segment with the configured key and endpoint, or to the sandbox emulator when no key is set', () => {
    const eu = buildConfig({ SEGMENT_FORWARD: 'on', SEGMENT_FORWARD_WRITE_KEY: 'wk_fwd', SEGMENT_FORWARD_ENDPOINT: 'https://events.eu1.segmentapis.com' });
    expect(eu.segment.forward).toEqual({ enabled: true, endpoint: 'https://events.eu1.segmentapis.com', writeKey: 'wk_fwd' });
    expect(eu.sandboxed).not.toContain('segment');
    const sandboxed = buildConfig({ SEGMENT_FORWARD: 'on' });
    expect(sandboxed.segment.forward).toEqual({ enabled: true, endpoint: SANDBOX.segment.url, writeKey: SANDBOX.segment.writeKey });
    expect(sandboxed.sandboxed).toContain('segment');
    // Off, Segment is no service at all: not listed among the sandboxed ones.
    expect(buildConfig({}).sandboxed).not.toContain('segment');
  });

  it('says what is wrong with a bad value', () => {
    expect(problems({ SEGMENT_FORWARD: 'yes please' })).toEqual([expect.stringMatching(/^SEGMENT_FORWARD: expected on or off/)]);
    expect(problems({ SEGMENT_CORS_ORIGINS: 'www.novade.com' })).toEqual([expect.stringMatching(/^SEGMENT_CORS_ORIGINS: each origin is \* or a scheme and host/)]);
    expect(problems({ SEGMENT_WRITE_KEYS: 'a key with spaces' })).toEqual([expect.stringMatching(/^SEGMENT_WRITE_KEYS: each write key is letters, digits/)]);
    expect(problems({ SEGMENT_FORWARD: 'on', SEGMENT_FORWARD_ENDPOINT: 'https://api.segment.io' })).toEqual([expect.stringMatching(/^SEGMENT_FORWARD_WRITE_KEY: missing/)]);
    expect(problems({ SEGMENT_FORWARD: 'on', SANDBOX: 'off' }).some((p) => /^segment: no credentials set and SANDBOX=off/.test(p))).toBe(true);
  });
});
