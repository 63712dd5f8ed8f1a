export { startBigQueryEmulator, emulatorBinary, type BigQueryEmulator, type StartBigQueryEmulatorOptions } from './emulator';
export type { SegmentExpectations } from './expectations';

/** Rows per Segment table for the sandbox at SANDBOX_SCALE (1 → 20,000 per table). */
export function segmentRowsForScale(scale: number): number {
  return Math.max(100, Math.round(20_000 * scale));
}
