import fs from 'node:fs';
import path from 'node:path';

/** Fails fast, with the fix, when the project's tools were not built (npm test builds them first). */
export default function setup(): void {
  const root = path.resolve(__dirname, '..');
  const temporal = path.join(root, '.tools/bin/temporal');
  if (!fs.existsSync(temporal)) throw new Error(`The Temporal CLI is not built at ${temporal}: run \`npm run setup\` (npm test does it for you).`);
  fs.mkdirSync(path.join(root, 'test-output'), { recursive: true });
}
