#!/usr/bin/env node
// `npx novade ...`: runs the TypeScript CLI through tsx, so there is no build step to forget.
require('tsx/cjs');
const { runCli } = require('../client/cli.ts');
runCli(process.argv.slice(2)).then((code) => process.exit(code));
