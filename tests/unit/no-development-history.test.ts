import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Product text (docs, comments, configuration) describes the product as it is. Naming a development
 * session or a tuning round dates it to how it was built, which a reader cannot act on.
 */
const HISTORY = /\b(session|round) [0-9]+\b|\bin (this|that|an earlier) session\b/i;
const PATTERNS = ['*.md', '*.ts', '*.mts', '*.js', '*.cjs', '*.yml', '*.yaml'];
const root = path.resolve(__dirname, '../..');

function productFiles(): string[] | undefined {
  try {
    const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '--', ...PATTERNS], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n').filter((f) => f !== '' && !f.startsWith('tests/fixtures/') && fs.existsSync(path.join(root, f)));
  } catch {
    return undefined; // not a git checkout (e.g. a container image): nothing to list
  }
}

describe('product text', () => {
  const files = productFiles();

  it.skipIf(files === undefined)('names no development session or tuning round', () => {
    const hits: string[] = [];
    for (const f of files ?? []) {
      fs.readFileSync(path.join(root, f), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (HISTORY.test(line)) hits.push(`${f}:${i + 1}: ${line.trim().slice(0, 160)}`);
        });
    }
    expect(hits, 'describe the product as it is: reword these lines without the session or round (keep the meaning; the history lives in git)').toEqual([]);
  });
});
