import { startAmplitudeEmulator } from '../sandbox/amplitude';
import { startSegmentEmulator } from '../sandbox/segment';
import { SANDBOX } from '../config/sandbox-endpoints';

/**
 * The destinations of the segment-collect bench in a process of their own (BENCH_AMPLITUDE_PORT,
 * BENCH_SEGMENT_PORT, BENCH_FORWARD_KEY), so that their work does not slow the load generator's event
 * loop and show up as endpoint latency. Read through their /__sandbox/ routes.
 */
async function main(): Promise<void> {
  const amplitude = await startAmplitudeEmulator({ port: Number(process.env.BENCH_AMPLITUDE_PORT), apiKeys: [SANDBOX.amplitude.apiKey], rateLimits: { httpApiPerIdPerSecond: 1_000_000 } });
  const segment = await startSegmentEmulator({ port: Number(process.env.BENCH_SEGMENT_PORT), writeKeys: [process.env.BENCH_FORWARD_KEY ?? SANDBOX.segment.writeKey] });
  const stop = async () => {
    await Promise.all([amplitude.close(), segment.close()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

void main();
