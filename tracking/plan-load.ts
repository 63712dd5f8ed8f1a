import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { eventFileSchema, identifyFileSchema, pagesFileSchema, settingsFileSchema, type EventFile, type IdentifyFile, type PagesFile, type SettingsFile } from './plan-files';

/**
 * Reads the tracking plan's directory: every YAML file parsed (with line numbers kept for
 * messages) and checked against its zod structure. Nothing is thrown for a bad file: each problem
 * becomes one line for `npx novade tracking plan lint`, so a person fixes them all in one pass.
 */

export interface PlanProblem {
  /** Path of the file, relative to the plan's directory. */
  file: string;
  line?: number;
  message: string;
}

/** A value read from a file, with how to find a line in it for later messages (schema errors). */
export interface Located<T> {
  file: string;
  value: T;
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export interface LoadedPlan {
  dir: string;
  settings?: Located<SettingsFile>;
  identify?: Located<IdentifyFile>;
  pages?: Located<PagesFile>;
  events: Located<EventFile>[];
  problems: PlanProblem[];
}

export const PLAN_FILES = { settings: 'settings.yaml', identify: 'identify.yaml', pages: 'pages.yaml', events: 'events' } as const;

const isYaml = (name: string) => /\.ya?ml$/i.test(name);

export function formatProblem(p: PlanProblem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`;
}

/** The line of the deepest node of `at` that the document has (a missing key points at its parent). */
function lineFinder(doc: Document, counter: LineCounter): (at: readonly (string | number)[]) => number | undefined {
  return (at) => {
    for (let n = at.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(at.slice(0, n), true);
      const range = (node as { range?: [number, number, number] } | undefined)?.range;
      if (range) return counter.linePos(range[0]).line;
      // A key whose value is empty has no value node: find the key itself.
      if (n > 0) {
        const parent = n === 1 ? doc.contents : doc.getIn(at.slice(0, n - 1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === at[n - 1]);
          const keyRange = (pair?.key as { range?: [number, number, number] } | undefined)?.range;
          if (keyRange) return counter.linePos(keyRange[0]).line;
        }
      }
    }
    return undefined;
  };
}

function readFile<T>(dir: string, rel: string, schema: z.ZodType<T>, problems: PlanProblem[]): Located<T> | undefined {
  const text = fs.readFileSync(path.join(dir, rel), 'utf8');
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const e of doc.errors) problems.push({ file: rel, line: counter.linePos(e.pos[0]).line, message: `not valid YAML: ${e.message.split('\n')[0]}` });
    return undefined;
  }
  const lineOf = lineFinder(doc, counter);
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
      const where = at.length ? `${at.join('.')}: ` : '';
      const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
      const message = issue.code === 'invalid_type' && /received undefined/.test(issue.message) ? 'missing' : issue.message;
      problems.push({ file: rel, line: lineOf(keys.length ? [...at, keys[0]] : at), message: `${where}${message}` });
    }
    return undefined;
  }
  return { file: rel, value: parsed.data, lineOf };
}

/** Loads every file of the plan; `problems` lists what is wrong with their structure. */
export function loadPlanDir(dir: string): LoadedPlan {
  const plan: LoadedPlan = { dir, events: [], problems: [] };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    plan.problems.push({ file: '.', message: `no tracking plan directory at ${dir}: create it (see docs/tracking-plan.md) or pass --dir` });
    return plan;
  }
  const need = <T>(rel: string, schema: z.ZodType<T>): Located<T> | undefined => {
    if (!fs.existsSync(path.join(dir, rel))) {
      plan.problems.push({ file: rel, message: 'missing: every plan has this file (see docs/tracking-plan.md)' });
      return undefined;
    }
    return readFile(dir, rel, schema, plan.problems);
  };
  plan.settings = need(PLAN_FILES.settings, settingsFileSchema);
  plan.identify = need(PLAN_FILES.identify, identifyFileSchema);
  plan.pages = need(PLAN_FILES.pages, pagesFileSchema);

  const known = new Set<string>([PLAN_FILES.settings, PLAN_FILES.identify, PLAN_FILES.pages, PLAN_FILES.events]);
  for (const name of fs.readdirSync(dir).sort()) {
    if (known.has(name) || name.startsWith('.') || /\.md$/i.test(name)) continue;
    if (isYaml(name)) plan.problems.push({ file: name, message: `unknown plan file: events go in ${PLAN_FILES.events}/, one file each` });
  }

  const eventsDir = path.join(dir, PLAN_FILES.events);
  if (fs.existsSync(eventsDir))
    for (const name of fs.readdirSync(eventsDir).sort()) {
      if (!isYaml(name)) continue;
      const event = readFile(dir, `${PLAN_FILES.events}/${name}`, eventFileSchema, plan.problems);
      if (event) plan.events.push(event);
    }
  return plan;
}
