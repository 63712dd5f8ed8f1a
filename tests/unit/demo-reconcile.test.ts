import { describe, expect, it } from 'vitest';
import { formatReport, judge } from '../../client/demo/reconcile';

const base = { flow: 'drift', source: 10, silver: 10, amplitude: 25, sent: 25, deadLetters: 2, duplicates: 0 };

describe('demo reconciliation', () => {
  it('passes a flow whose silver equals its source and whose Amplitude count equals what it sent', () => {
    expect(judge(base).problems).toEqual([]);
  });

  it('names each way a flow can fail to reconcile', () => {
    expect(judge({ ...base, silver: 9 }).problems).toEqual(['silver has 9 rows, the source 10']);
    expect(judge({ ...base, amplitude: 24 }).problems).toEqual(['Amplitude holds 24 events, the flow reported 25 sent']);
    expect(judge({ ...base, duplicates: 3 }).problems).toEqual(['3 duplicates']);
    expect(judge(base, ['drift_messages failed']).problems).toEqual(['drift_messages failed']);
    expect(judge({ ...base, segment: 9 }).problems).toEqual(['Segment holds 9 calls, the source 10']);
    expect(judge({ ...base, segment: 10 }).problems).toEqual([]);
    // A flow that does not send to Amplitude is judged on the warehouse alone.
    expect(judge({ ...base, amplitude: null, sent: null }).problems).toEqual([]);
  });

  it('prints one row per flow and a verdict', () => {
    const ok = formatReport({ ok: true, seconds: 12.3, uiUrl: 'http://localhost:8233', flows: [judge(base)] });
    expect(ok).toMatch(/^flow +source +silver +amplitude +sent +segment +dead letters +duplicates +result/);
    expect(ok).toContain('Everything reconciles. (12.3 s)');
    const bad = formatReport({ ok: false, seconds: 1, uiUrl: '', flows: [judge({ ...base, silver: 9, amplitude: null, sent: null })] });
    expect(bad).toContain('silver has 9 rows, the source 10');
    expect(bad).toMatch(/drift +10 +9 +- +- +- +2 +0/);
    expect(bad).toContain('Some flows do not reconcile');
  });
});
