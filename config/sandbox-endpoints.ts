/**
 * Where the sandbox emulators listen and the fake credentials they accept. The platform uses these
 * for every service that has no credentials configured (see config/env.ts).
 */
export const SANDBOX = {
  salesforce: { port: 4010, url: 'http://127.0.0.1:4010', clientId: 'sandbox-client-id', clientSecret: 'sandbox-client-secret' },
  drift: { port: 4020, url: 'http://127.0.0.1:4020', token: 'sandbox-drift-token', verificationToken: 'sandbox-drift-verification' },
  amplitude: { port: 4030, url: 'http://127.0.0.1:4030', apiKey: 'sandbox-amplitude-key' },
  bigquery: { port: 9050, grpcPort: 9060, url: 'http://127.0.0.1:9050', projectId: 'novade-sandbox' },
  /** Segment's Tracking API (the destination of the Segment forward); it writes into the BigQuery emulator's Segment dataset. */
  segment: { port: 4040, url: 'http://127.0.0.1:4040', writeKey: 'sandbox-segment-write-key' },
  webhookSecret: 'sandbox-webhook-secret',
} as const;
