import path from 'node:path';
import { loadScenarios } from './scenarios-dir';

/** Child process of bench/run.ts: runs one scenario and prints its figures as one JSON line. */
async function main() {
  const name = process.argv[2];
  const scenario = (await loadScenarios(path.join(__dirname, 'scenarios'))).find((s) => s.name === name);
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 25);
  const t0 = performance.now();
  const result = await scenario.run();
  const seconds = result.seconds ?? (performance.now() - t0) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
  process.stdout.write(`\n@@bench ${JSON.stringify({ ...result, seconds, peakRssMiB: result.peakRssMiB ?? peak / 1048576 })}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
