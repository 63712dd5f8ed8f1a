export { startDriftEmulator } from './server';
export type { DriftEmulator, DriftEmulatorOptions } from './server';
export { DriftStore } from './store';
export { DRIFT_SANDBOX_SCOPES } from './token-info';
export type { DriftEventType, NewConversation, NewMeeting, NewMessage, ConversationCursor } from './store';
export type { WebhookConfigInput, DriftWebhookPayload, EmittedEvent } from './webhooks';
export { DRIFT_EVENT_TYPES } from './webhooks';
export * from './model';
export { generateDriftWorld, DRIFT_ORG_ID, KNOWN_PEOPLE, CONVERSATIONS_PER_SCALE } from '../seed/drift';
