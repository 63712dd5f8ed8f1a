import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { buildConfig } from '../../config/config';
import { loadPlan, loadValidPlan, segmentEventColumn } from '../../tracking/plan-compile';
import { formatProblem } from '../../tracking/plan-load';
import { ROOT } from '../helpers/paths';
import { writeTestPlan } from '../helpers/tracking-plan';

const lint = (dir: string) => loadPlan(dir).problems.map(formatProblem);

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

describe('tracking plan files', () => {
  it("the project's own plan is valid", () => {
    const plan = loadValidPlan(path.join(ROOT, 'tracking-plan'));
    expect(plan.event('Form Submitted')?.source).toBe('website');
    expect(plan.amplitudeEvent('form_submitted')).toMatchObject({ kind: 'event', event: { name: 'Form Submitted' } });
    expect(plan.amplitudeEvent('Opportunity Won')).toMatchObject({ kind: 'event' });
    expect(plan.amplitudeEvent('Viewed Pricing')).toEqual({ kind: 'page', name: 'Pricing' });
    expect(plan.amplitudeEvent('Viewed Nowhere')).toBeUndefined();
  });

  it('a good test plan has no problem', () => {
    expect(lint(writeTestPlan())).toEqual([]);
  });

  it('names Segment warehouse columns as Segment does', () => {
    expect(segmentEventColumn('Form Submitted')).toBe('form_submitted');
    expect(segmentEventColumn('Défaut signalé ✓')).toBe('defaut_signale');
    expect(segmentEventColumn('Checklist 完成')).toBe('checklist');
  });

  it('reports a bad schema with its file and line', () => {
    const dir = writeTestPlan({
      files: {
        'events/bad.yaml': 'name: Bad\ndescription: d\nowner: o\nproperties:\n  type: object\n  properties:\n    a:\n      type: strin\n',
        'events/strict.yaml': 'name: Strict\ndescription: d\nowner: o\nproperties:\n  type: object\n  properties:\n    a: { type: string, requird: true }\n',
        'events/format.yaml': 'name: Format\ndescription: d\nowner: o\nproperties:\n  type: object\n  properties:\n    a: { type: string, format: colour }\n',
        'events/root.yaml': 'name: Root\ndescription: d\nowner: o\nproperties:\n  type: array\n',
        'events/req.yaml': 'name: Req\ndescription: d\nowner: o\nproperties:\n  type: object\n  required: [b]\n  properties:\n    a: { type: string }\n',
      },
    });
    const problems = lint(dir);
    expect(problems).toContain('events/bad.yaml:8: properties: bad JSON Schema: properties.a.type must be equal to one of the allowed values ("array", "boolean", "integer", "null", "number", "object", "string")');
    expect(problems.find((p) => p.startsWith('events/strict.yaml'))).toMatch(/unknown keyword: "requird"/);
    expect(problems.find((p) => p.startsWith('events/format.yaml'))).toMatch(/unknown format "colour"/);
    expect(problems).toContain('events/root.yaml:5: properties: the schema\'s root must be `type: object` (it describes an object of properties)');
    expect(problems).toContain('events/req.yaml:6: properties.required: "b" is required but not defined under properties');
    expect(loadPlan(dir).plan).toBeUndefined();
  });

  it('reports duplicate names: events, pages, and two website events Amplitude would merge', () => {
    const dir = writeTestPlan({
      files: {
        'events/z-signed-up-again.yaml': 'name: Signed Up\ndescription: d\nowner: o\nproperties: { type: object }\n',
        'events/zz-shouted.yaml': 'name: signed up!\ndescription: d\nowner: o\nproperties: { type: object }\n',
        'pages.yaml': 'description: p\nowner: o\nnames: [Home, Pricing, Home]\nproperties: { type: object }\n',
      },
    });
    expect(lint(dir)).toEqual([
      'pages.yaml:3: page name "Home" is listed twice',
      'events/z-signed-up-again.yaml:1: duplicate event name "Signed Up" (also in events/signed-up.yaml)',
      'events/zz-shouted.yaml:1: event "signed up!" and "Signed Up" (events/signed-up.yaml) reach Amplitude under the same name "signed_up": rename one',
    ]);
  });

  it('reports the structure of a file: YAML syntax, missing and unknown keys, bad enums, missing files', () => {
    const dir = writeTestPlan({
      files: {
        'events/broken.yaml': 'name: [\n',
        'events/partial.yaml': 'name: Partial\nowner: o\nsource: web\ncolour: red\nproperties: { type: object }\n',
        'settings.yaml': 'version: 2\noutcomes:\n  unplanned_event: reject\n  unplanned_property: keep\n  schema_violation: allow\n',
        'identify.yaml': undefined,
        'stray.yaml': 'a: 1\n',
      },
    });
    const problems = lint(dir);
    expect(problems).toEqual(
      expect.arrayContaining([
        'settings.yaml:3: outcomes.unplanned_event: Invalid option: expected one of "allow"|"block"',
        'identify.yaml: missing: every plan has this file (see docs/tracking-plan.md)',
        'stray.yaml: unknown plan file: events go in events/, one file each',
        'events/partial.yaml:1: description: missing',
        'events/partial.yaml:3: source: Invalid option: expected one of "website"|"salesforce"|"drift"',
        'events/partial.yaml:4: Unrecognized key: "colour"',
      ]),
    );
    expect(problems.find((p) => p.startsWith('events/broken.yaml:'))).toMatch(/not valid YAML/);
  });

  it('`npx novade tracking plan lint` prints one line per problem and exits 1, or ok and 0', async () => {
    const config = buildConfig({}, ROOT);
    const run = async (...args: string[]) => {
      const out = new Capture();
      const code = await runCli(args, new CliContext(out, config));
      return { code, out: out.text };
    };
    const good = await run('tracking', 'plan', 'lint');
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/tracking-plan: ok \(\d+ events, \d+ pages\)/);
    const dir = writeTestPlan({ files: { 'events/root.yaml': 'name: Root\ndescription: d\nowner: o\nproperties:\n  type: array\n' } });
    const bad = await run('tracking', 'plan', 'lint', '--dir', dir);
    expect(bad.code).toBe(1);
    expect(bad.out.trim().split('\n')).toEqual(["events/root.yaml:5: properties: the schema's root must be `type: object` (it describes an object of properties)"]);
    const json = await run('tracking', 'plan', 'lint', '--dir', dir, '--json');
    expect(JSON.parse(json.out).problems).toHaveLength(1);
  });
});
