import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const TOOLS_BIN = path.join(ROOT, '.tools/bin');
export const TEMPORAL_CLI = path.join(TOOLS_BIN, 'temporal');
export const BIGQUERY_EMULATOR = path.join(TOOLS_BIN, 'bigquery-emulator');
export const SPARK_PYTHON = path.join(ROOT, '.tools/spark-venv/bin/python');
export const TEST_OUTPUT = path.join(ROOT, 'test-output');
