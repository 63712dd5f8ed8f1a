import { describe, expect, it } from 'vitest';
import { SignalPacer } from '../../webhook/signal-pacer';

/** The token bucket that spaces the webhook's signals under load, on a clock the test moves. */
describe('SignalPacer', () => {
  const clock = () => {
    const c = { t: 1_000, now: () => c.t };
    return c;
  };

  it('lets an idle burst of up to `burst` signals leave at once, then spaces the next ones intervalMs apart', () => {
    const c = clock();
    const pacer = new SignalPacer(20, 3, c.now);
    for (let i = 0; i < 3; i++) {
      expect(pacer.waitMs()).toBe(0);
      pacer.take();
    }
    expect(pacer.waitMs()).toBe(20);
    c.t += 5;
    expect(pacer.waitMs()).toBe(15);
    c.t += 15;
    expect(pacer.waitMs()).toBe(0);
    pacer.take();
    expect(pacer.waitMs()).toBe(20);
  });

  it('keeps at most `burst` tokens however long it stayed idle, so sustained load is paced after that burst', () => {
    const c = clock();
    const pacer = new SignalPacer(10, 2, c.now);
    c.t += 60_000;
    pacer.take();
    pacer.take();
    expect(pacer.waitMs()).toBe(10);
  });

  it('never makes a request wait when the rate stays under one signal per intervalMs', () => {
    const c = clock();
    const pacer = new SignalPacer(20, 1, c.now);
    for (let i = 0; i < 50; i++) {
      expect(pacer.waitMs()).toBe(0);
      pacer.take();
      c.t += 20;
    }
  });

  it('with intervalMs 0 never waits', () => {
    const pacer = new SignalPacer(0, 1);
    for (let i = 0; i < 10; i++) {
      expect(pacer.waitMs()).toBe(0);
      pacer.take();
    }
  });
});
