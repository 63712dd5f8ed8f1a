import type { N8nNode } from './export-format';
import { at, items, literal, numberOr, shortType, textOf, type Params } from './params';

/** `salesforce` → `Salesforce`, `googleSheets` → `Google Sheets`. */
const app = (t: string) => {
  const words = (t.replace(/Trigger$/i, '') || t).replace(/([a-z0-9])([A-Z])/g, '$1 $2');
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/**
 * What starts a workflow. Parameter names and defaults follow n8n's node sources
 * (packages/nodes-base/nodes/Schedule/ScheduleTrigger.node.ts, Cron/Cron.node.ts, Webhook): an
 * export leaves out every parameter still at its default, so `{ field: 'minutes' }` means every
 * 5 minutes and an empty rule means every day at midnight.
 */

export type TriggerKind = 'schedule' | 'webhook' | 'manual' | 'poll' | 'workflow' | 'error' | 'other';

export interface Trigger {
  kind: TriggerKind;
  node: string;
  type: string;
  /** One line a person reads: `every 15 minutes`, `POST /webhook/leads`, `cron 0 6 * * 1-5`. */
  description: string;
  /** Schedules: the fixed interval in seconds, when the rule is one (for comparison with the 5-minute syncs). */
  everySeconds?: number;
  /** Schedules: cron expressions as written (custom rules and legacy Cron nodes). */
  cron?: string[];
  /** Webhooks: the path after n8n's `/webhook/` and the HTTP methods. */
  webhook?: { path: string; methods: string[] };
}

const MANUAL = new Set(['manualTrigger', 'start']);
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const plural = (n: number, unit: string) => (n === 1 ? `every ${unit}` : `every ${n} ${unit}s`);
const hhmm = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;

/** One rule of the Schedule Trigger (`rule.interval[]`). */
function scheduleRule(r: Params): { text: string; seconds?: number; cron?: string } {
  const field = literal(r.field) ?? 'days';
  const minute = numberOr(r.triggerAtMinute, 0);
  const hour = numberOr(r.triggerAtHour, 0);
  switch (field) {
    case 'seconds': {
      const n = numberOr(r.secondsInterval, 30);
      return { text: plural(n, 'second'), seconds: n };
    }
    case 'minutes': {
      const n = numberOr(r.minutesInterval, 5);
      return { text: plural(n, 'minute'), seconds: n * 60 };
    }
    case 'hours': {
      const n = numberOr(r.hoursInterval, 1);
      return { text: `${plural(n, 'hour')} at :${String(minute).padStart(2, '0')}`, seconds: n * 3600 };
    }
    case 'days': {
      const n = numberOr(r.daysInterval, 1);
      return { text: `${plural(n, 'day')} at ${hhmm(hour, minute)}`, seconds: n * 86_400 };
    }
    case 'weeks': {
      const n = numberOr(r.weeksInterval, 1);
      const days = Array.isArray(r.triggerAtDay) ? r.triggerAtDay.map((d) => DAYS[numberOr(d, -1)] ?? String(d)) : ['Sunday'];
      return { text: `${plural(n, 'week')} on ${days.join(', ') || 'Sunday'} at ${hhmm(hour, minute)}` };
    }
    case 'months': {
      const n = numberOr(r.monthsInterval, 1);
      return { text: `${plural(n, 'month')} on day ${numberOr(r.triggerAtDayOfMonth, 1)} at ${hhmm(hour, minute)}` };
    }
    case 'cronExpression': {
      const expr = textOf(r.expression)?.text.trim() ?? '';
      return { text: `cron ${expr || '(empty)'}`, cron: expr };
    }
    default:
      return { text: `interval "${field}"` };
  }
}

/** One time of the legacy Cron node, or of a polling trigger's `pollTimes` (the same fields). */
function cronItem(r: Params): { text: string; seconds?: number; cron?: string } {
  const mode = literal(r.mode) ?? 'everyDay';
  const hour = numberOr(r.hour, 14);
  const minute = numberOr(r.minute, 0);
  switch (mode) {
    case 'everyMinute':
      return { text: 'every minute', seconds: 60 };
    case 'everyHour':
      return { text: `every hour at :${String(minute).padStart(2, '0')}`, seconds: 3600 };
    case 'everyDay':
      return { text: `every day at ${hhmm(hour, minute)}`, seconds: 86_400 };
    case 'everyWeek':
      return { text: `every week on ${DAYS[numberOr(r.weekday, 1)] ?? String(r.weekday)} at ${hhmm(hour, minute)}` };
    case 'everyMonth':
      return { text: `every month on day ${numberOr(r.dayOfMonth, 1)} at ${hhmm(hour, minute)}` };
    case 'everyX': {
      const n = numberOr(r.value, 2);
      const unit = literal(r.unit) === 'minutes' ? 'minute' : 'hour';
      return { text: plural(n, unit), seconds: n * (unit === 'minute' ? 60 : 3600) };
    }
    case 'custom': {
      const expr = textOf(r.cronExpression)?.text.trim() ?? '* * * * * *';
      return { text: `cron ${expr}`, cron: expr };
    }
    default:
      return { text: `mode "${mode}"` };
  }
}

function combine(kind: TriggerKind, node: N8nNode, parts: { text: string; seconds?: number; cron?: string }[], none: string): Trigger {
  const cron = parts.flatMap((p) => (p.cron === undefined ? [] : [p.cron]));
  const seconds = parts.length === 1 ? parts[0].seconds : undefined;
  return {
    kind,
    node: node.name,
    type: node.type,
    description: parts.length === 0 ? none : parts.map((p) => p.text).join('; '),
    ...(seconds !== undefined ? { everySeconds: seconds } : {}),
    ...(cron.length ? { cron } : {}),
  };
}

function webhook(node: N8nNode): Trigger {
  const p = node.parameters;
  const path = (textOf(p.path)?.text ?? '').replace(/^\/+/, '');
  const raw = p.httpMethod;
  const multiple = p.multipleMethods === true;
  // Newer versions take a list when "Allow Multiple HTTP Methods" is on; the default is GET (and GET, POST with the list).
  const methods = Array.isArray(raw) ? raw.map(String) : typeof raw === 'string' ? [raw] : multiple ? ['GET', 'POST'] : ['GET'];
  const base = shortType(node.type) === 'formTrigger' ? 'form' : 'webhook';
  return { kind: 'webhook', node: node.name, type: node.type, description: `${methods.join('|')} /${base}/${path || '(no path)'}`, webhook: { path, methods } };
}

/** Whether a node starts its workflow (n8n's trigger nodes have no input). */
export function isTriggerType(type: string): boolean {
  const t = shortType(type);
  return /trigger$/i.test(t) || ['cron', 'interval', 'webhook', 'start', 'emailReadImap'].includes(t);
}

/** The trigger a node is, or undefined for a node that is not one. */
export function triggerOf(node: N8nNode): Trigger | undefined {
  const t = shortType(node.type);
  if (!isTriggerType(node.type) && at(node.parameters, 'pollTimes') === undefined) return undefined;
  const p = node.parameters;
  if (t === 'scheduleTrigger') {
    const rules = at(p, 'rule') === undefined ? [{ field: 'days' }] : items(p.rule, 'interval');
    return combine('schedule', node, rules.map(scheduleRule), 'no schedule rule (never runs)');
  }
  if (t === 'cron') return combine('schedule', node, items(p.triggerTimes, 'item').map(cronItem), 'no trigger times (never runs)');
  if (t === 'interval') {
    const n = numberOr(p.interval, 1);
    const unit = literal(p.unit) ?? 'seconds';
    const secs = unit === 'hours' ? 3600 : unit === 'minutes' ? 60 : 1;
    return combine('schedule', node, [{ text: plural(n, unit.replace(/s$/, '')), seconds: n * secs }], '');
  }
  if (t === 'webhook' || t === 'formTrigger') return webhook(node);
  if (MANUAL.has(t)) return { kind: 'manual', node: node.name, type: node.type, description: 'run by hand in the editor' };
  if (t === 'executeWorkflowTrigger') return { kind: 'workflow', node: node.name, type: node.type, description: 'called by another workflow (Execute Workflow)' };
  if (t === 'errorTrigger') return { kind: 'error', node: node.name, type: node.type, description: 'runs when another workflow fails (error workflow)' };
  if (at(p, 'pollTimes') !== undefined || POLLING.has(t)) {
    // Polling triggers default to every minute when the export leaves pollTimes out.
    const times = items(p.pollTimes, 'item');
    const parts = (times.length ? times : [{ mode: 'everyMinute' }]).map(cronItem);
    return { ...combine('poll', node, parts, ''), description: `polls ${app(t)} ${parts.map((x) => x.text).join('; ')}` };
  }
  return { kind: 'other', node: node.name, type: node.type, description: `${app(t)} event (app trigger)` };
}

/** Built-in triggers that poll (n8n's `polling: true`), for exports that leave pollTimes at its default. */
const POLLING = new Set(['salesforceTrigger', 'googleSheetsTrigger', 'googleDriveTrigger', 'gmailTrigger', 'airtableTrigger', 'rssFeedReadTrigger', 'notionTrigger', 'googleCalendarTrigger']);
