import fs from 'node:fs';
import path from 'node:path';

/** Fails fast, with the fix, when the topology tools are missing (npm run test:topology builds them first). */
export default function setup(): void {
  const root = path.resolve(__dirname, '../..');
  const needed = [
    path.join(root, '.tools/bin/temporal'),
    path.join(root, '.tools/bin/temporal-server'),
    path.join(root, '.tools/bin/temporal-sql-tool'),
    path.join(root, '.tools/bin/temporal-ui-server'),
    path.join(root, '.tools/temporal-schema'),
    path.join(root, '.tools/temporal-ui-config'),
    path.join(root, '.tools/bin/bigquery-emulator'),
    '/usr/lib/postgresql/15/bin/initdb',
    '/usr/bin/prometheus',
    '/usr/bin/promtool',
  ];
  const missing = needed.filter((f) => !fs.existsSync(f));
  if (missing.length) throw new Error(`The topology tier needs ${missing.join(', ')}: run \`bash scripts/setup.sh --for-topology\` (npm run test:topology does it for you).`);
  fs.mkdirSync(path.join(root, 'test-output'), { recursive: true });
}
