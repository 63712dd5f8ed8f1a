import fs from 'node:fs';
import path from 'node:path';

/** The module the bundler starts from: the TypeScript source when run with tsx or vitest, else the build. */
export const WORKFLOWS_PATH = ['index.ts', 'index.js'].map((f) => path.join(__dirname, '../workflows', f)).find((f) => fs.existsSync(f)) ?? path.join(__dirname, '../workflows');
