import fs from 'node:fs';
import { formatGolden, GOLDEN_FILE, runSalesforceGolden } from '../tests/helpers/salesforce-golden';
import { STREAM_DECLARATIONS } from '../streams/registry';

/**
 * Re-records tests/fixtures/salesforce-golden.json from the current Salesforce declarations. Only
 * for a deliberate change of the output (a new field, a new event): insert_ids already sent must
 * stay as they are, so review the diff before committing it.
 */
async function main() {
  const out = await runSalesforceGolden({ streams: STREAM_DECLARATIONS });
  fs.writeFileSync(GOLDEN_FILE, formatGolden(out));
  const calls = out.phases.map((p) => `${p.name}: ${p.calls.length} calls, ${p.deadLetters.length} dead letters`).join('\n');
  console.log(`${GOLDEN_FILE}\n${calls}\n${Object.entries(out.silver).map(([s, rows]) => `${s}: ${rows.length} rows`).join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
