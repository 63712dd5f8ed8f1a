import type { AmplitudeEvent } from '../mappings/amplitude-types';

/** The port the Amplitude connector implements and the flows send events through. */

export interface DeliveryReport {
  sent: number;
  /** Events Amplitude refused for good (400 invalid fields): dead letters, not retries. */
  rejected: { event: AmplitudeEvent; reason: string }[];
}

export interface EventSink {
  /** Resolves only when Amplitude answered 200 for every event not in `rejected`; throws otherwise. */
  send(events: AmplitudeEvent[]): Promise<DeliveryReport>;
}
