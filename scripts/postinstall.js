// Runs after `npm install` / `npm ci`: builds the project's Go tools once per machine (cached).
// NOVADE_SKIP_SETUP=1 skips it, e.g. in the Docker image, which only needs Node.
const { spawnSync } = require('node:child_process');
const path = require('node:path');

if (process.env.NOVADE_SKIP_SETUP === '1') process.exit(0);
const result = spawnSync('bash', [path.join(__dirname, 'setup.sh')], { stdio: 'inherit' });
process.exit(result.status ?? 1);
