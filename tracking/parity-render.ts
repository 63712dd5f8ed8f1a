import type { MissingSample, ParityDay, ParityReport, ParityRow } from './parity';

/**
 * The parity report for people: an aligned text table for the terminal, and a static HTML page
 * (inline CSS and SVG, no script, nothing fetched) with the daily counts of the three sides as a
 * chart, the days out of tolerance shaded, and the table under it.
 */

const pct = (x: number) => `${(x * 100).toFixed(x === 0 || x >= 0.1 ? 0 : 1)}%`;
const n = (x: number) => x.toLocaleString('en-US');

const COLUMNS: [string, (r: ParityRow) => string][] = [
  ['day', (r) => r.day],
  ['event type', (r) => r.eventType],
  ['segment', (r) => n(r.segment)],
  ['novade-sync', (r) => n(r.collected)],
  ['blocked', (r) => n(r.blocked)],
  ['amplitude', (r) => (r.amplitudeCompared ? n(r.amplitude) : 'not streamed')],
  ['missing in segment', (r) => n(r.missingInSegment)],
  ['missing in novade-sync', (r) => n(r.missingInCollected)],
  ['missing in amplitude', (r) => (r.amplitudeCompared ? n(r.missingInAmplitude) : '-')],
  ['extra in amplitude', (r) => (r.amplitudeCompared ? n(r.extraInAmplitude) : '-')],
  ['shifted', (r) => n(r.shifted)],
  ['difference', (r) => pct(r.difference)],
  ['verdict', (r) => r.verdict],
];

const SIDES: [keyof ParityReport['missing'], string][] = [
  ['segment', "missing in Segment's warehouse (collected by novade-sync)"],
  ['collected', "missing in novade-sync (in Segment's warehouse)"],
  ['amplitude', 'missing in Amplitude (collected, not blocked)'],
  ['extraInAmplitude', 'in Amplitude only (a seg: insert_id novade-sync never collected)'],
];

export function renderParityText(r: ParityReport): string {
  const header = COLUMNS.map(([h]) => h);
  const rows = r.rows.map((row) => COLUMNS.map(([, f]) => f(row)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [`Parity ${r.from} to ${r.to} (tolerance ${pct(r.tolerance)})`, ''];
  if (rows.length === 0) out.push('no calls on any side in this range');
  else out.push(line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line));
  const t = r.totals;
  out.push(
    '',
    `calls: ${n(t.calls)}; segment ${n(t.segment)}, novade-sync ${n(t.collected)} (blocked ${n(t.blocked)}), amplitude ${n(t.amplitude)}; ` +
      `${t.rowsOutOfTolerance} of ${t.rows} rows out of tolerance`,
  );
  for (const [side, title] of SIDES) {
    const m = r.missing[side];
    if (m.count === 0) continue;
    out.push(`${m.count} ${title}: ${m.samples.map((s) => `${s.messageId} (${s.day} ${s.eventType})`).join(', ')}${m.count > m.samples.length ? ', ...' : ''}`);
  }
  if (r.shifted.count > 0)
    out.push(
      `${r.shifted.count} shifted across midnight (dated differently by the sides, counted once): ` +
        r.shifted.samples.map((s) => `${s.messageId} (${Object.entries(s.days).map(([k, d]) => `${k} ${d}`).join(', ')})`).join(', '),
    );
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round upper bound for the y axis: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

interface Series {
  label: string;
  color: string;
  dash?: string;
  value: (d: ParityDay) => number;
}

/**
 * One chart over the days: the out-of-tolerance days shaded, a y axis from zero, the day labels
 * slanted under the axis, the legend above. `lines` draws each series as a line with its points;
 * otherwise as bars side by side per day.
 */
function dayChart(days: ParityDay[], series: Series[], opts: { lines: boolean; height: number; label: string }): string {
  const W = 960;
  const H = opts.height;
  const m = { top: 34, right: 24, bottom: 64, left: 64 };
  const w = W - m.left - m.right;
  const h = H - m.top - m.bottom;
  // Five whole-numbered intervals: an axis of calls has no half calls.
  const max = niceMax(Math.max(5, ...days.flatMap((d) => series.map((s) => s.value(d)))));
  const slot = w / Math.max(days.length, 1);
  const x = (i: number) => m.left + slot * (i + 0.5);
  const y = (v: number) => m.top + h - (v / max) * h;
  const parts: string[] = [];
  days.forEach((d, i) => {
    if (d.outOfTolerance) parts.push(`<rect class="out" x="${(m.left + slot * i).toFixed(1)}" y="${m.top}" width="${slot.toFixed(1)}" height="${h}"><title>${esc(d.day)}: out of tolerance</title></rect>`);
  });
  for (let k = 0; k <= 5; k++) {
    const v = (max / 5) * k;
    parts.push(`<line class="grid" x1="${m.left}" x2="${m.left + w}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"/>`);
    parts.push(`<text class="tick" x="${m.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${n(Math.round(v))}</text>`);
  }
  const every = Math.max(1, Math.ceil(days.length / 20));
  days.forEach((d, i) => {
    if (i % every === 0) parts.push(`<text class="tick" transform="translate(${(x(i) + 4).toFixed(1)},${m.top + h + 14}) rotate(-35)" text-anchor="end">${esc(d.day)}</text>`);
  });
  parts.push(`<line class="axis" x1="${m.left}" x2="${m.left + w}" y1="${m.top + h}" y2="${m.top + h}"/>`, `<line class="axis" x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + h}"/>`);
  if (opts.lines)
    for (const s of series) {
      const pts = days.map((d, i) => `${x(i).toFixed(1)},${y(s.value(d)).toFixed(1)}`).join(' ');
      if (days.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''} points="${pts}"/>`);
      days.forEach((d, i) => parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(s.value(d)).toFixed(1)}" r="3.5" fill="${s.color}"><title>${esc(`${d.day} ${s.label}: ${n(s.value(d))}`)}</title></circle>`));
    }
  else {
    const bar = Math.min(18, (slot * 0.8) / series.length);
    days.forEach((d, i) =>
      series.forEach((s, k) => {
        const v = s.value(d);
        if (v === 0) return;
        const left = x(i) - (bar * series.length) / 2 + k * bar;
        parts.push(`<rect x="${left.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bar - 1).toFixed(1)}" height="${(m.top + h - y(v)).toFixed(1)}" fill="${s.color}"><title>${esc(`${d.day} ${s.label}: ${n(v)}`)}</title></rect>`);
      }),
    );
  }
  const legend = series.map(
    (s, i) =>
      `<g transform="translate(${m.left + i * 290},16)">${opts.lines ? `<line x1="0" x2="28" y1="-4" y2="-4" stroke="${s.color}" stroke-width="3"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>` : `<rect x="8" y="-10" width="12" height="12" fill="${s.color}"/>`}<text x="34" y="0">${esc(s.label)}</text></g>`,
  );
  return `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(opts.label)}">${parts.join('')}${legend.join('')}</svg>`;
}

const COUNTS: Series[] = [
  { label: "Segment's warehouse (BigQuery)", color: '#2563eb', value: (d) => d.segment },
  { label: 'novade-sync (collected)', color: '#16a34a', dash: '6 4', value: (d) => d.collected },
  { label: 'Amplitude (event stream)', color: '#9333ea', dash: '2 3', value: (d) => d.amplitude },
];

const MISMATCHES: Series[] = [
  { label: "missing in Segment's warehouse", color: '#2563eb', value: (d) => d.missingInSegment },
  { label: 'missing in novade-sync', color: '#16a34a', value: (d) => d.missingInCollected },
  { label: 'missing in / only in Amplitude', color: '#9333ea', value: (d) => d.amplitudeMismatch },
];

function samples(title: string, list: { count: number; samples: MissingSample[] }): string {
  if (list.count === 0) return '';
  const more = list.count > list.samples.length ? `<p class="note">${n(list.count - list.samples.length)} more not listed.</p>` : '';
  return (
    `<h3>${n(list.count)} ${esc(title)}</h3><table class="samples"><thead><tr><th>messageId</th><th>day</th><th>event type</th></tr></thead><tbody>` +
    list.samples.map((s) => `<tr><td class="id">${esc(s.messageId)}</td><td>${esc(s.day)}</td><td>${esc(s.eventType)}</td></tr>`).join('') +
    `</tbody></table>${more}`
  );
}

export function renderParityHtml(r: ParityReport): string {
  const t = r.totals;
  const verdict = t.rowsOutOfTolerance === 0 ? `<p class="ok">All ${t.rows} rows within tolerance.</p>` : `<p class="bad">${t.rowsOutOfTolerance} of ${t.rows} rows out of tolerance.</p>`;
  const head = `<tr>${COLUMNS.map(([h], i) => `<th${i >= 2 ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr>`;
  const body = r.rows.map((row) => `<tr${row.verdict === 'ok' ? '' : ' class="bad"'}>${COLUMNS.map(([, f], i) => `<td${i >= 2 ? ' class="num"' : ''}>${esc(f(row))}</td>`).join('')}</tr>`).join('');
  const shifted =
    r.shifted.count === 0
      ? ''
      : `<h3>${n(r.shifted.count)} shifted across midnight (dated differently by the sides, counted once)</h3><table class="samples"><thead><tr><th>messageId</th><th>event type</th><th>days</th></tr></thead><tbody>` +
        r.shifted.samples.map((s) => `<tr><td class="id">${esc(s.messageId)}</td><td>${esc(s.eventType)}</td><td>${esc(Object.entries(s.days).map(([k, d]) => `${k} ${d}`).join(', '))}</td></tr>`).join('') +
        '</tbody></table>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dual-tracking parity ${esc(r.from)} to ${esc(r.to)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:24px auto;max-width:1280px;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#4b5563;margin:0 0 12px}.ok{color:#166534;font-weight:600}.bad{color:#b91c1c;font-weight:600}
svg{display:block;max-width:100%;height:auto;border:1px solid #e5e7eb;border-radius:6px;background:#fff}
svg{margin-bottom:8px}svg text{font-size:11px;fill:#374151}svg .grid{stroke:#e5e7eb}svg .axis{stroke:#6b7280}svg .out{fill:#fecaca;opacity:.7}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left;white-space:nowrap}
th{background:#f9fafb;font-weight:600;position:sticky;top:0}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fef2f2;color:#991b1b;font-weight:400}td.id{font-family:ui-monospace,monospace}.note{color:#6b7280}
</style></head><body>
<h1>Dual-tracking parity: ${esc(r.from)} to ${esc(r.to)}</h1>
<p class="meta">Tolerance ${esc(pct(r.tolerance))} &middot; ${n(t.calls)} calls &middot; Segment ${n(t.segment)}, novade-sync ${n(t.collected)} (blocked by the plan ${n(t.blocked)}), Amplitude ${n(t.amplitude)} &middot; generated ${esc(r.generatedAt)}</p>
${verdict}
<h2>Calls per day</h2>
<p class="note">Events only: identifies, which Amplitude's event stream does not send back, are counted in the table.</p>
${dayChart(r.days, COUNTS, { lines: true, height: 340, label: 'Calls per day on each side' })}
<h2>Calls missing per day (joined on messageId)</h2>
${dayChart(r.days, MISMATCHES, { lines: false, height: 220, label: 'Calls missing on a side, per day' })}
<h2>Per day and event type</h2>
<table><thead>${head}</thead><tbody>${body}</tbody></table>
<h2>Calls missing, joined on messageId</h2>
${SIDES.map(([side, title]) => samples(title, r.missing[side])).join('') || '<p class="ok">No call is missing on any side.</p>'}
${shifted}
</body></html>
`;
}
