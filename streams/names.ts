/**
 * The polled sources, and the streams each synced before the streams file (config/streams.yaml)
 * decided them: workflow histories recorded before the `streams-from-config` patch replay with this
 * list. Runs now get their streams from the worker (streams/sources.ts). Plain data: workflows
 * import it, so nothing here may touch Node or I/O.
 */
export const STREAMS_BY_SOURCE = {
  salesforce: ['salesforce_account', 'salesforce_contact', 'salesforce_lead', 'salesforce_opportunity'],
  drift: ['drift_contacts', 'drift_conversations', 'drift_messages', 'drift_meetings'],
} as const;

export type SyncSource = keyof typeof STREAMS_BY_SOURCE;

export function isSyncSource(s: string): s is SyncSource {
  return Object.prototype.hasOwnProperty.call(STREAMS_BY_SOURCE, s);
}
