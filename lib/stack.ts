import type { Logger } from '../config/logger';

/** Things `npm start` runs, stopped in reverse order of starting, each at most once. */
export interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export class Stack {
  private readonly items: Stoppable[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly log: Logger) {}

  add(item: Stoppable): void {
    this.items.push(item);
  }

  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      for (const item of [...this.items].reverse()) {
        try {
          await item.stop();
          this.log.info(`${item.name} stopped`);
        } catch (err) {
          this.log.warn({ err }, `${item.name} did not stop cleanly`);
        }
      }
    })();
    return this.stopping;
  }
}
