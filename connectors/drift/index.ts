export { DriftClient, DriftHttpError, StaleListCursor, nextPosition, type DriftClientOptions, type ListPosition, type ConversationListPage } from './client';
export { DriftReader, type DriftReaderOptions } from './reader';
