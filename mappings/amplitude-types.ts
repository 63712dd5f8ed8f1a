import { z } from 'zod';

/**
 * Amplitude's event, as the HTTP V2 and Batch APIs take it. `insert_id` is always set by our
 * mappings, deterministically, so a retried send is deduplicated by Amplitude.
 */
export const amplitudeEventSchema = z
  .object({
    event_type: z.string().min(1),
    user_id: z.string().optional(),
    device_id: z.string().optional(),
    time: z.number().int(),
    insert_id: z.string().min(1),
    event_properties: z.record(z.string(), z.unknown()).optional(),
    user_properties: z.record(z.string(), z.unknown()).optional(),
    groups: z.record(z.string(), z.unknown()).optional(),
    platform: z.string().optional(),
    country: z.string().optional(),
    ip: z.string().optional(),
    session_id: z.number().int().optional(),
  })
  .refine((e) => e.user_id !== undefined || e.device_id !== undefined, { message: 'an event needs user_id or device_id' });
export type AmplitudeEvent = z.infer<typeof amplitudeEventSchema>;

/** User properties to set, sent as a `$identify` event (same delivery rules as any event). */
export interface IdentifyCall {
  user_id?: string;
  device_id?: string;
  insert_id: string;
  time: number;
  user_properties: {
    $set?: Record<string, unknown>;
    $setOnce?: Record<string, unknown>;
    $unset?: Record<string, unknown>;
  };
}

export function identifyToEvent(call: IdentifyCall): AmplitudeEvent {
  return {
    event_type: '$identify',
    user_id: call.user_id,
    device_id: call.device_id,
    time: call.time,
    insert_id: call.insert_id,
    user_properties: call.user_properties,
  };
}
