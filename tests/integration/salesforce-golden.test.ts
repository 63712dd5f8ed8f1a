import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_FILE, runSalesforceGolden, type GoldenOutput } from '../helpers/salesforce-golden';
import { STREAM_DECLARATIONS } from '../../streams/registry';

/**
 * The Salesforce streams must keep producing exactly the recorded output over the sandbox seed:
 * same silver rows, same Amplitude calls with the same insert_ids, times and properties. An event
 * already sent under one insert_id must never be sent again under another.
 */
describe('Salesforce output over the sandbox seed', () => {
  it('equals the golden file, phase by phase and table by table', async () => {
    const golden = JSON.parse(fs.readFileSync(GOLDEN_FILE, 'utf8')) as GoldenOutput;
    const out = await runSalesforceGolden({ streams: STREAM_DECLARATIONS });
    expect(out.phases.map((p) => p.name)).toEqual(golden.phases.map((p) => p.name));
    // The scenario must exercise what it claims to (guards against an emulator change hollowing it out).
    const types = new Set(golden.phases.flatMap((p) => p.calls.map((c) => c.event_type)));
    expect([...types].sort()).toEqual(['$identify', 'Contact Created', 'Lead Converted', 'Lead Created', 'Opportunity Created', 'Opportunity Lost', 'Opportunity Stage Changed', 'Opportunity Won']);
    for (const [i, phase] of out.phases.entries()) {
      expect(phase.calls.map((c) => c.insert_id), `${phase.name}: insert_ids`).toEqual(golden.phases[i].calls.map((c) => c.insert_id));
      expect(phase.calls, `${phase.name}: calls`).toEqual(golden.phases[i].calls);
      expect(phase.deadLetters, `${phase.name}: dead letters`).toEqual(golden.phases[i].deadLetters);
    }
    for (const stream of Object.keys(golden.silver)) expect(out.silver[stream], `silver.${stream}`).toEqual(golden.silver[stream]);
    expect(Object.keys(out.silver)).toEqual(Object.keys(golden.silver));
  }, 120_000);
});
