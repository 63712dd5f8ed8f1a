/**
 * In sandbox mode, points the Amplitude emulator's event streaming at our webhook with the shared
 * secret, as one would configure the webhook destination in Amplitude: every event the platform
 * sends to the emulator comes back through the webhook into silver.amplitude_events.
 */
export async function pointSandboxStreamAt(opts: { emulatorUrl: string; webhookUrl: string; secretHeader: string; secret: string }): Promise<void> {
  const res = await fetch(`${opts.emulatorUrl}/__sandbox/stream`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: opts.webhookUrl, headers: { [opts.secretHeader]: opts.secret } }),
  });
  if (!res.ok) throw new Error(`the Amplitude emulator refused the stream target (${res.status}): ${await res.text()}`);
}
