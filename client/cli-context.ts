import type { AppConfig } from '../config/config';
import { loadConfigOrExit } from '../config/config';
import { connectTemporal, type TemporalClient } from '../lib/temporal';

/** The config (loaded once, before a command runs) and the lazily opened Temporal client, shared by the CLI's commands. */
export class CliContext {
  private cfg?: AppConfig;
  private temporal?: TemporalClient;

  /** `config` set: use it instead of reading the environment (tests, embedding). */
  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    config?: AppConfig,
  ) {
    this.cfg = config;
  }

  /** Reads the configuration and resolves its Key Vault references (the CLI's preAction hook, before any command runs). */
  async load(): Promise<AppConfig> {
    this.cfg ??= await loadConfigOrExit();
    return this.cfg;
  }

  get config(): AppConfig {
    if (!this.cfg) throw new Error('the configuration is read before a command runs (CliContext.load); nothing may use it earlier');
    return this.cfg;
  }

  async client() {
    this.temporal ??= await connectTemporal(this.config.temporal);
    return this.temporal.client;
  }

  print(line = ''): void {
    this.out.write(`${line}\n`);
  }

  /** Raw output, for a line redrawn in place. */
  write(text: string): void {
    this.out.write(text);
  }

  /** Whether the output is a terminal (a progress bar can redraw itself). */
  get isTTY(): boolean {
    return (this.out as { isTTY?: boolean }).isTTY === true;
  }

  async close(): Promise<void> {
    await this.temporal?.close();
  }
}

/** Renders rows as an aligned text table. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
