import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC, renderConfigurationDoc, variableDocs } from '../../scripts/config-docs';

describe('docs/configuration.md', () => {
  it('gives every variable of the schema a description', () => {
    const missing = variableDocs()
      .filter((v) => !v.description)
      .map((v) => v.name);
    expect(missing, `add .describe('...') to these variables in config/env.ts, then run \`npm run docs:config\``).toEqual([]);
  });

  it('is what the schema in config/env.ts generates', () => {
    const committed = fs.existsSync(CONFIGURATION_DOC) ? fs.readFileSync(CONFIGURATION_DOC, 'utf8') : '';
    const expected = renderConfigurationDoc();
    if (committed !== expected) {
      const a = committed.split('\n');
      const b = expected.split('\n');
      const line = a.findIndex((l, i) => l !== b[i]);
      const at = line === -1 ? Math.min(a.length, b.length) : line;
      expect.fail(
        `docs/configuration.md disagrees with config/env.ts: run \`npm run docs:config\` and commit the page.\n` +
          `first difference at line ${at + 1}:\n  page:   ${a[at] ?? '(end of file)'}\n  schema: ${b[at] ?? '(end of file)'}`,
      );
    }
  });

  it('lists every variable of the schema', () => {
    const page = fs.readFileSync(CONFIGURATION_DOC, 'utf8');
    for (const v of variableDocs()) expect(page, `${v.name} is missing from docs/configuration.md`).toContain(`| \`${v.name}\` |`);
  });
});
