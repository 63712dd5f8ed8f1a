import { Rng } from './random';
import { person, type Person } from './people';
import { SEGMENT_TABLES, type SegmentTable } from './segment-columns';
import { isoMicros, parseIsoMicros, MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_SECOND } from './segment-time';

export { SEGMENT_TABLES, type SegmentTable } from './segment-columns';

/**
 * Segment's BigQuery warehouse as the sandbox imagines Novade's: tracks, identifies and pages rows
 * with Segment's columns, spread over a date range, including what real warehouses contain and a
 * backfill must survive: duplicate ids (the same message loaded twice, later loaded_at/uuid_ts,
 * content otherwise identical), ties on timestamp, rows with neither user_id nor anonymous_id,
 * tracks without an event name, very long text and unicode.
 *
 * Row i of a table is a pure function of (options, table, i), so 1,000,000 rows stream out of
 * `segmentRows` without being held, and tests recompute the truth from the same function.
 *
 * Identity: `user_id` is the lower-cased email of a sandbox person (sandbox/seed/people.ts), the same
 * key the Salesforce and Drift emulators use for Amplitude's user_id. People 0..36999 are the
 * Salesforce contacts; 37000..44999 are app users the CRM does not know. A person without an email
 * has no app account, so their events are anonymous. Anonymous visitors have only `anonymous_id`.
 */
export interface SegmentSeedOptions {
  seed: number;
  /** Physical rows per table, duplicates included; one number for all three tables or one each. */
  rowsPerTable: number | Partial<Record<SegmentTable, number>>;
  /** Inclusive start of the event time range (ISO-8601). */
  from: string;
  /** Exclusive end of the event time range (ISO-8601). */
  to: string;
}

export const SEGMENT_SEED_DEFAULTS = { seed: 42, from: '2022-01-01T00:00:00Z', to: '2025-01-01T00:00:00Z' } as const;

/** Shares of physical rows; exported so tests can reason about sizes. */
export const SEGMENT_RATES = {
  /** Re-loads of an earlier row (Segment's at-least-once warehouse loads). */
  duplicate: 0.015,
  /** A row whose timestamp equals the previous row's (a client flushing a batch). */
  tie: 0.04,
  /** Neither user_id nor anonymous_id: nothing to map to an Amplitude user or device. */
  unmappable: 0.003,
  /** Tracks whose event name is null. */
  nullEvent: 0.002,
  /** Rows with a multi-kilobyte user agent or page title. */
  longText: 0.001,
} as const;

export type SegmentCell = string | number | boolean | null;
/** One warehouse row; timestamps in the canonical `YYYY-MM-DDTHH:MM:SS.ffffffZ` form. */
export type SegmentSeedRow = Record<string, SegmentCell>;

const APP_USERS = 45_000;
const VISITORS = 200_000;
const TABLE_INDEX: Record<SegmentTable, number> = { tracks: 1, identifies: 2, pages: 3 };

export function rowsFor(opts: SegmentSeedOptions, table: SegmentTable): number {
  const n = typeof opts.rowsPerTable === 'number' ? opts.rowsPerTable : (opts.rowsPerTable[table] ?? 0);
  if (!Number.isInteger(n) || n < 0) throw new Error(`rowsPerTable for ${table} must be a whole number >= 0, got ${n}`);
  return n;
}

/** A 32-bit bijection, so the index part of an id is unique per row yet looks random. */
function mix32(x: number): number {
  x = Math.imul((x ^ (x >>> 16)) >>> 0, 0x45d9f3b) >>> 0;
  x = Math.imul((x ^ (x >>> 16)) >>> 0, 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const hex = (r: Rng, digits: number) => {
  let s = '';
  while (s.length < digits) s += r.int(0, 0xffff).toString(16).padStart(4, '0');
  return s.slice(0, digits);
};

function uuidFrom(r: Rng): string {
  return `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-${'89ab'[r.int(0, 3)]}${hex(r, 3)}-${hex(r, 12)}`;
}

function slugEvent(text: string): string {
  return text
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}

type Platform = 'web' | 'ios' | 'android' | 'server';
const LIBRARIES: Record<Platform, [string, string[]]> = {
  web: ['analytics.js', ['4.1.5', '4.15.3', 'next-1.53.0', 'next-1.70.0']],
  ios: ['analytics-ios', ['4.1.6', '4.1.8']],
  android: ['analytics-android', ['4.10.4', '4.11.3']],
  server: ['analytics-node', ['6.2.0', '1.3.0']],
};
const USER_AGENTS: Record<Platform, string[]> = {
  web: [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  ],
  ios: ['Novade/5.12.0 (iPhone; iOS 17.1.2; Scale/3.00)', 'Novade/5.9.1 (iPad; iOS 16.6; Scale/2.00)'],
  android: ['Dalvik/2.1.0 (Linux; U; Android 13; SM-G991B Build/TP1A.220624.014)', 'Dalvik/2.1.0 (Linux; U; Android 12; Pixel 6 Build/SQ3A.220705.004)'],
  server: [],
};
const LOCALES = ['en-SG', 'en-US', 'en-GB', 'fr-FR', 'de-DE', 'vi-VN', 'ms-MY', 'th-TH', 'zh-SG', 'id-ID'];
const TIMEZONES = ['Asia/Singapore', 'Asia/Kuala_Lumpur', 'Europe/Paris', 'Europe/Berlin', 'Asia/Ho_Chi_Minh', 'Asia/Bangkok', 'Asia/Jakarta', 'Australia/Sydney'];
const PLANS = ['free', 'starter', 'professional', 'enterprise'];
const EVENTS = ['Project Created', 'Form Submitted', 'Checklist Completed', 'Defect Reported', 'Login', 'Report Exported', 'Photo Uploaded'];
const UNICODE_EVENTS = ['Rapport exporté', 'Báo cáo lỗi', 'Formular übermittelt', 'Checklist 完成', 'Défaut signalé ✓'];
const FORM_TYPES = ['inspection', 'permit-to-work', 'toolbox-meeting', 'incident', 'daily-report', 'ncr'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'];
const PAGES: [name: string, path: string, title: string, category: string | null][] = [
  ['Home', '/', 'Novade | Digital construction management', 'marketing'],
  ['Pricing', '/pricing', 'Pricing | Novade', 'marketing'],
  ['Checklists', '/features/checklists', 'Digital checklists | Novade', 'features'],
  ['Forms', '/features/forms', 'Forms & permits | Novade', 'features'],
  ['Defects', '/features/defects', 'Defect management | Novade', 'features'],
  ['Blog', '/blog/digital-ptw-singapore', 'Permit-to-work in Singapore | Novade blog', 'blog'],
  ['Login', '/login', 'Sign in | Novade', null],
  ['Projects', '/app/projects', 'Projects | Novade', 'app'],
  ['Démo', '/fr/demande-de-démo', 'Demandez une démo | Novade', 'marketing'],
];
const REFERRERS = ['https://www.google.com/', 'https://www.linkedin.com/', 'https://www.bing.com/', 'https://novade.net/newsletter'];
const CAMPAIGNS: [source: string, medium: string, name: string][] = [
  ['google', 'cpc', 'ptw-sg-2023'],
  ['linkedin', 'social', 'bca-webinar'],
  ['newsletter', 'email', 'monthly-digest'],
];
const COUNTRIES_LONG: Record<string, string> = { SG: 'Singapore', MY: 'Malaysia', FR: 'France', DE: 'Germany', VN: 'Vietnam', ID: 'Indonesia', AU: 'Australia', GB: 'United Kingdom', HK: 'Hong Kong', TH: 'Thailand' };

/** Everything the generator needs per table, computed once per table and run. */
export class SegmentGenerator {
  readonly fromMicros: number;
  readonly toMicros: number;
  private readonly people = new Map<number, Person>();
  private readonly base: Rng;

  constructor(
    readonly opts: SegmentSeedOptions,
    readonly table: SegmentTable,
  ) {
    this.fromMicros = parseIsoMicros(opts.from);
    this.toMicros = parseIsoMicros(opts.to);
    if (!(this.toMicros > this.fromMicros)) throw new Error(`Segment seed range is empty: from ${opts.from} to ${opts.to}`);
    this.base = new Rng(opts.seed).fork(`segment:${table}`);
  }

  get rows(): number {
    return rowsFor(this.opts, this.table);
  }

  private rng(i: number, purpose: string): Rng {
    return this.base.fork(`${purpose}:${i}`);
  }

  /** The earlier row that row i re-loads, if it is a duplicate. */
  duplicateOf(i: number): number | undefined {
    if (i === 0) return undefined;
    const r = this.rng(i, 'dup');
    if (!r.chance(SEGMENT_RATES.duplicate)) return undefined;
    return i - r.int(1, Math.min(i, 2000));
  }

  /** The original (first-loaded) row of row i's id. */
  originalOf(i: number): number {
    let k = i;
    for (let d = this.duplicateOf(k); d !== undefined; d = this.duplicateOf(k)) k = d;
    return k;
  }

  /** Event time of row i in microseconds. */
  timeAt(i: number): number {
    const k = this.originalOf(i);
    const r = this.rng(k, 'time');
    if (k > 0 && r.chance(SEGMENT_RATES.tie)) return this.timeAt(k - 1);
    const t = this.fromMicros + Math.floor(r.next() * (this.toMicros - this.fromMicros));
    // Browser and mobile libraries send milliseconds; server libraries microseconds.
    return r.chance(0.8) ? t - (t % 1000) : t;
  }

  private personAt(index: number): Person {
    let p = this.people.get(index);
    if (!p) {
      p = person(this.opts.seed, index);
      this.people.set(index, p);
    }
    return p;
  }

  /** Row i as loaded into the warehouse. */
  row(i: number): SegmentSeedRow {
    const d = this.duplicateOf(i);
    if (d !== undefined) {
      const earlier = this.row(d);
      const r = this.rng(i, 'reload');
      const shift = r.int(1, 72) * MICROS_PER_HOUR + r.int(0, 3599) * MICROS_PER_SECOND;
      return {
        ...earlier,
        uuid_ts: isoMicros(parseIsoMicros(earlier.uuid_ts as string) + shift),
        loaded_at: isoMicros(parseIsoMicros(earlier.loaded_at as string) + shift),
      };
    }
    return this.original(i);
  }

  private original(i: number): SegmentSeedRow {
    const r = this.rng(i, 'row');
    const table = this.table;
    const platform: Platform = table === 'pages' ? 'web' : r.pick(['web', 'web', 'web', 'ios', 'android', 'server'] as const);

    // Who.
    let userId: string | null = null;
    let anonymousId: string | null = null;
    let who: Person | undefined;
    const roll = r.next();
    if (roll < SEGMENT_RATES.unmappable) {
      // Segment accepts such messages from misconfigured server sources; the mapping must reject them.
    } else if (roll < 0.3 && table !== 'identifies') {
      anonymousId = uuidFrom(new Rng(this.opts.seed).fork(`visitor:${r.int(0, VISITORS - 1)}`));
    } else {
      // Active users send most events: quadratic skew toward low indexes.
      const u = Math.floor(APP_USERS * r.next() ** 2);
      who = this.personAt(u);
      userId = who.email?.trim().toLowerCase() || null;
      const device = new Rng(this.opts.seed).fork(`device:${u}:${r.int(0, 1)}`);
      anonymousId = platform === 'server' ? null : uuidFrom(device);
      if (userId === null && anonymousId === null) anonymousId = uuidFrom(device);
    }

    // When.
    const ts = this.timeAt(i);
    const skew = r.chance(0.1) ? r.int(-300, 300) * MICROS_PER_SECOND : 0;
    const flushDelay = r.int(0, 30_000) * 1000;
    const uuidTs = ts + flushDelay + r.int(10, 6 * 3600) * MICROS_PER_SECOND;

    // Ids carry the row index through a bijection and the table in a fixed digit: unique everywhere.
    const idPrefix = mix32(i + 1).toString(16).padStart(8, '0');
    const id =
      platform === 'web'
        ? `ajs-next-${idPrefix}${TABLE_INDEX[table]}${hex(r, 23)}`
        : `${idPrefix}-${hex(r, 4)}-4${TABLE_INDEX[table]}${hex(r, 2)}-${'89ab'[r.int(0, 3)]}${hex(r, 3)}-${hex(r, 12)}`;

    const [library, versions] = LIBRARIES[platform];
    let userAgent = platform === 'server' ? null : r.pick(USER_AGENTS[platform]);
    const longText = r.chance(SEGMENT_RATES.longText);
    if (longText && userAgent) userAgent = `${userAgent} ${'Ω≈ç√∫'.repeat(1200)}`;
    const page = r.pick(PAGES);
    const campaign = platform === 'web' && r.chance(0.15) ? r.pick(CAMPAIGNS) : null;
    const host = r.chance(0.5) ? 'https://www.novade.net' : 'https://app.novade.net';

    const row: SegmentSeedRow = {
      id,
      anonymous_id: anonymousId,
      user_id: userId,
      received_at: isoMicros(ts + flushDelay),
      sent_at: isoMicros(ts + skew + flushDelay),
      timestamp: isoMicros(ts),
      original_timestamp: isoMicros(ts + skew),
      context_library_name: library,
      context_library_version: r.pick(versions),
      context_ip: platform === 'server' ? null : `${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`,
      context_locale: platform === 'server' ? null : r.pick(LOCALES),
      context_timezone: platform === 'server' ? null : r.pick(TIMEZONES),
      context_user_agent: userAgent,
      context_page_path: platform === 'web' ? page[1] : null,
      context_page_url: platform === 'web' ? `${host}${page[1]}` : null,
      context_page_title: platform === 'web' ? page[2] : null,
      context_page_referrer: platform === 'web' && r.chance(0.4) ? r.pick(REFERRERS) : null,
      context_campaign_source: campaign?.[0] ?? null,
      context_campaign_medium: campaign?.[1] ?? null,
      context_campaign_name: campaign?.[2] ?? null,
      context_os_name: platform === 'ios' ? 'iOS' : platform === 'android' ? 'Android' : null,
      context_device_type: platform === 'ios' || platform === 'android' ? platform : null,
      context_app_version: platform === 'ios' || platform === 'android' ? `5.${r.int(0, 12)}.${r.int(0, 9)}` : null,
      uuid_ts: isoMicros(uuidTs),
      loaded_at: isoMicros(uuidTs + r.int(5, 900) * MICROS_PER_SECOND),
    };

    if (table === 'tracks') {
      let eventText: string | null = r.chance(0.01) ? r.pick(UNICODE_EVENTS) : r.pick(EVENTS);
      if (r.chance(SEGMENT_RATES.nullEvent)) eventText = null;
      // Segment names the event column after the event; a pasted essay only lengthens event_text.
      const kind = eventText ? slugEvent(eventText) : null;
      if (longText && eventText) eventText = `${eventText} ${'x'.repeat(3000)}`;
      Object.assign(row, {
        event: kind,
        event_text: eventText,
        project_id: eventText && eventText !== 'Login' ? `prj_${r.int(1, 5000)}` : null,
        form_type: kind === 'form_submitted' ? r.pick(FORM_TYPES) : null,
        checklist_id: kind === 'checklist_completed' ? `chk_${r.int(1, 90_000)}` : null,
        defect_severity: kind === 'defect_reported' ? r.pick(SEVERITIES) : null,
        plan: r.chance(0.7) ? r.pick(PLANS) : null,
        platform,
        item_count: kind === 'checklist_completed' || kind === 'photo_uploaded' ? r.int(1, 250) : null,
        offline: platform === 'ios' || platform === 'android' ? r.chance(0.2) : null,
      });
    } else if (table === 'identifies') {
      const first = who?.firstName ?? null;
      const last = who?.lastName ?? null;
      Object.assign(row, {
        email: who?.email ?? null,
        name: who ? [first, last].filter(Boolean).join(' ') : null,
        first_name: first,
        last_name: last,
        company: who?.company ?? null,
        title: who?.title ?? null,
        plan: r.pick(PLANS),
        country: who ? (COUNTRIES_LONG[who.country] ?? who.country) : null,
        created_at: isoMicros(this.fromMicros + r.int(0, 2000) * MICROS_PER_DAY - 400 * MICROS_PER_DAY),
      });
    } else {
      const search = campaign ? `?utm_source=${campaign[0]}&utm_medium=${campaign[1]}&utm_campaign=${campaign[2]}` : r.chance(0.05) ? '?q=permit+to+work' : null;
      Object.assign(row, {
        name: page[0],
        path: page[1],
        url: `${host}${page[1]}${search ?? ''}`,
        title: longText ? `${page[2]} ${'長'.repeat(4000)}` : page[2],
        referrer: row.context_page_referrer,
        search,
        category: page[3],
      });
    }
    return row;
  }
}

/** The rows of one table, in load order, one at a time. */
export function* segmentRows(opts: SegmentSeedOptions, table: SegmentTable): Generator<SegmentSeedRow> {
  const gen = new SegmentGenerator(opts, table);
  for (let i = 0; i < gen.rows; i++) yield gen.row(i);
}

export function segmentTableSizes(opts: SegmentSeedOptions): Record<SegmentTable, number> {
  return Object.fromEntries(SEGMENT_TABLES.map((t) => [t, rowsFor(opts, t)])) as Record<SegmentTable, number>;
}
