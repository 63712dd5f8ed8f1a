import type { Row } from '../connectors/warehouse/types';
import type { AmplitudeEvent, IdentifyCall } from './amplitude-types';

/** What a mapping receives and returns, as the stream declarations (streams/types.ts) call it. */

export interface MappingContext {
  /** Amplitude rejects ids shorter than this. */
  minIdLength: number;
  /** Source field whose value becomes Amplitude's user_id (Salesforce: configurable, default Email). */
  userIdField: string;
}

export interface RelatedRows {
  get(lookup: string, key: string | null | undefined): Row | undefined;
}

export interface MappedEvents {
  events: AmplitudeEvent[];
  identify?: IdentifyCall;
  /** Why nothing could be sent for this record (e.g. no usable user id): goes to dead letters. */
  unsendable?: string;
}
