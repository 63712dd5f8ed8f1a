import { defaultSalesforceStreamName } from '../../streams/config/schema';
import { findObject, missingFields, type NovadeCatalog } from './catalog';
import { keyOf, type TableRef } from './sql-tables';
import type { SystemUse } from './uses';

/**
 * Which novade-sync flow or stream does what one n8n node did, or why none does. `needs config`:
 * a stream can do it once config/streams.yaml (or an env setting) says so.
 */

export type CoverageStatus = 'covered' | 'needs config' | 'not covered';

export interface Coverage {
  status: CoverageStatus;
  /** The flow or stream: `salesforce_opportunity`, `website tracking (/v1/track)`, `Segment backfill`. */
  by?: string;
  reason: string;
}

/** Segment's warehouse tables (one dataset per source); any other table of that dataset holds one track event's calls. */
const SEGMENT_TABLES = new Set(['tracks', 'identifies', 'pages', 'screens', 'groups', 'aliases', 'users', 'accounts']);

const andList = (xs: string[]) => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

const DRIFT_STREAM: Record<string, string> = { contacts: 'drift_contacts', conversations: 'drift_conversations', messages: 'drift_messages', meetings: 'drift_meetings' };

function segmentTable(ref: TableRef, catalog: NovadeCatalog): boolean {
  if (ref.dataset && ref.dataset.toLowerCase() === catalog.segment.dataset.toLowerCase()) return true;
  return SEGMENT_TABLES.has(ref.table.toLowerCase()) && ref.table.toLowerCase() !== 'users';
}

function salesforce(use: SystemUse, catalog: NovadeCatalog): Coverage {
  const sf = use.salesforce!;
  if (use.access === 'write')
    return { status: 'not covered', reason: `${sf.operation} writes to Salesforce; novade-sync reads Salesforce and never writes to it` };
  if (sf.metadata) return { status: 'not covered', reason: 'reads Salesforce metadata, not records: `npx novade streams discover salesforce` shows what describe offers' };
  if (!sf.object) return { status: 'not covered', reason: 'the object is computed at run time or the query could not be read: check the node by hand' };
  const entry = findObject(catalog, sf.object);
  if (!entry) return { status: 'needs config', by: `${defaultSalesforceStreamName(sf.object)} (to add)`, reason: `${sf.object} is not in config/streams.yaml yet: add the entry \`--yaml\` prints` };
  if (sf.allFields && entry.fields !== 'all')
    return { status: 'needs config', by: entry.stream, reason: `reads every field of ${sf.object}; ${entry.stream} reads a list: use \`fields: all\` or add the fields the workflow uses` };
  const missing = missingFields(entry, sf.fields);
  if (missing.length) return { status: 'needs config', by: entry.stream, reason: `${entry.stream} does not read ${missing.join(', ')} yet: add ${missing.length === 1 ? 'it' : 'them'} to the object's fields in config/streams.yaml` };
  return { status: 'covered', by: entry.stream, reason: `${entry.stream} syncs ${sf.object} every 5 minutes into silver.${entry.stream}${sf.relationships.length ? `; ${sf.relationships.join(', ')} come${sf.relationships.length === 1 ? 's' : ''} from the related object's stream` : ''}` };
}

function bigquery(use: SystemUse, catalog: NovadeCatalog): Coverage {
  const tables = use.bigquery?.tables ?? [];
  if (use.access === 'write')
    return { status: 'not covered', reason: `writes to BigQuery${tables.length ? ` (${tables.map(keyOf).join(', ')})` : ''}; novade-sync's warehouse is Databricks (silver.* tables): rebuild what this table is for from silver` };
  if (tables.length === 0) return { status: 'not covered', reason: 'the tables it reads could not be read from the node: check it by hand' };
  const segment = tables.filter((t) => segmentTable(t, catalog));
  const other = tables.filter((t) => !segmentTable(t, catalog));
  if (other.length) return { status: 'not covered', reason: `${other.map(keyOf).join(', ')} ${other.length === 1 ? 'is' : 'are'} not Segment history; novade-sync reads BigQuery only for the Segment backfill` };
  const backfilled = segment.filter((t) => catalog.segment.tables.includes(t.table.toLowerCase()));
  const readable = segment.filter((t) => ['tracks', 'identifies', 'pages'].includes(t.table.toLowerCase()) && !backfilled.includes(t));
  const rest = segment.filter((t) => !backfilled.includes(t) && !readable.includes(t));
  if (rest.length)
    return {
      status: 'not covered',
      reason: `${rest.map((t) => t.table).join(', ')}: the Segment backfill reads tracks, identifies and pages only (a per-event table's calls are also in tracks)`,
    };
  if (readable.length) return { status: 'needs config', by: 'Segment backfill', reason: `add ${readable.map((t) => t.table).join(', ')} to SEGMENT_TABLES, then \`npx novade backfill start\`` };
  return { status: 'covered', by: 'Segment backfill', reason: `\`npx novade backfill start\` moves the ${andList(backfilled.map((t) => t.table))} history into Amplitude and silver.segment_*` };
}

function segment(use: SystemUse): Coverage {
  if (use.segment) {
    const call = use.segment.call;
    return {
      status: 'covered',
      by: `website tracking (/v1/${call})`,
      reason: `novade-sync's Segment-compatible endpoint takes the same ${call} calls (write key in SEGMENT_WRITE_KEYS), sends them to Amplitude and the warehouse, and forwards them to Segment while both run: point the call at it`,
    };
  }
  return { status: 'not covered', reason: `${use.label}: novade-sync only receives Segment calls (/v1/*) and reads Segment's BigQuery history` };
}

function drift(use: SystemUse, catalog: NovadeCatalog): Coverage {
  if (use.access === 'write') return { status: 'not covered', reason: 'writes to Drift; novade-sync reads Drift and never writes to it' };
  const stream = DRIFT_STREAM[use.drift?.resource ?? ''];
  if (!stream) return { status: 'not covered', reason: `Drift ${use.drift?.resource ?? ''} is not a novade-sync stream (contacts, conversations, messages, meetings are)` };
  if (!catalog.drift.includes(stream)) return { status: 'needs config', by: stream, reason: `${stream} is disabled in config/streams.yaml: enable it` };
  return { status: 'covered', by: stream, reason: `${stream} syncs every 5 minutes, and Drift's webhooks (/drift) read changes at once` };
}

/** Amplitude as a destination is covered when what the workflow sends comes from a covered source. */
function amplitude(use: SystemUse, sources: { use: SystemUse; coverage: Coverage }[]): Coverage {
  const api = use.amplitude?.api ?? '';
  if (use.access === 'read') {
    if (api === 'export')
      return { status: 'covered', by: 'Amplitude ingest (/amplitude)', reason: "Amplitude's event streaming to POST /amplitude puts every event in silver.amplitude_events: read them there" };
    return { status: 'not covered', reason: 'reads Amplitude reports (dashboard REST API); novade-sync moves events, not charts' };
  }
  const fed = sources.filter((s) => s.coverage.status !== 'not covered');
  if (fed.length === 0)
    return { status: 'not covered', reason: 'novade-sync sends Amplitude only what its flows read (Salesforce, Drift, Segment calls and history); nothing this workflow reads is one of them' };
  const by = [...new Set(fed.map((s) => s.coverage.by ?? s.use.label))].join(', ');
  const status = fed.some((s) => s.coverage.status === 'needs config') ? 'needs config' : 'covered';
  const ruled = fed.some((s) => s.use.system === 'salesforce' || s.use.system === 'drift');
  const check = ruled ? "; check that config/streams.yaml's event names and properties match what this workflow sent" : '; the events keep their Segment names';
  return { status, by, reason: `novade-sync sends Amplitude the events of what this workflow reads, with deterministic insert_ids${check}` };
}

/** Coverage of each use, Amplitude writes judged by what the same workflow reads. */
export function coverageOf(uses: SystemUse[], catalog: NovadeCatalog): Coverage[] {
  const first = uses.map((use): Coverage | undefined => {
    switch (use.system) {
      case 'salesforce':
        return salesforce(use, catalog);
      case 'bigquery':
        return bigquery(use, catalog);
      case 'segment':
        return segment(use);
      case 'drift':
        return drift(use, catalog);
      case 'amplitude':
        return undefined;
      case 'http':
        return { status: 'not covered', reason: `no novade-sync flow calls ${use.label}` };
      case 'other':
        return use.community
          ? { status: 'not covered', reason: `community node ${use.type} is unknown here: check by hand what it does` }
          : { status: 'not covered', reason: `novade-sync has no ${use.label} connector` };
    }
  });
  const sources = uses.flatMap((use, i) => (use.system !== 'amplitude' && (use.access === 'read' || use.system === 'segment') && first[i] ? [{ use, coverage: first[i]! }] : []));
  return uses.map((use, i) => first[i] ?? amplitude(use, sources));
}
