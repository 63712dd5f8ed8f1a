export { DriftClient, DriftHttpError, StaleListCursor, nextPosition, type DriftClientOptions, type ListPosition, type ConversationListPage } from './client';
export { DriftReader, targetsSchema, type DriftReaderOptions, type DriftTargets } from './reader';
