import { describe, expect, it } from 'vitest';
import { fixedSecret, rereadableSecret } from '../../connectors/secret-source';
import { secretSource } from '../../config/keyvault/secret-sources';
import { buildConfig } from '../../config/config';

describe('SecretSource', () => {
  it('a plain setting never changes', async () => {
    const s = fixedSecret('a');
    expect(await s.reread()).toBe(false);
    expect(s.current()).toBe('a');
    // A setting that did not come from Key Vault gets the same.
    const fromConfig = secretSource(buildConfig({}, '/tmp'), 'AMPLITUDE_API_KEY', 'k');
    expect([fromConfig.current(), await fromConfig.reread()]).toEqual(['k', false]);
  });

  it('concurrent re-reads share one read; the new value is kept', async () => {
    let reads = 0;
    let release!: (v: string) => void;
    const s = rereadableSecret('old', () => {
      reads++;
      return new Promise<string>((r) => (release = r));
    });
    const both = Promise.all([s.reread(), s.reread()]);
    release('new');
    expect(await both).toEqual([true, true]);
    expect(reads).toBe(1);
    expect(s.current()).toBe('new');
  });

  it('a failed re-read keeps the old value, reports the error and says nothing changed', async () => {
    const errors: unknown[] = [];
    const s = rereadableSecret('old', () => Promise.reject(new Error('vault down')), (e) => errors.push(e));
    expect(await s.reread()).toBe(false);
    expect(s.current()).toBe('old');
    expect(errors).toHaveLength(1);
  });
});
