export { SegmentReader, type SegmentReaderOptions, type ReadPageRequest, type SegmentPage, type WindowCount, type KeysetPosition } from './segment-reader';
export {
  SEGMENT_READ_TABLES,
  SegmentTrackRow,
  SegmentIdentifyRow,
  SegmentPageRow,
  parseSegmentRow,
  type SegmentReadTable,
  type SegmentRow,
  type RawSegmentRow,
  type RejectedSegmentRow,
} from './segment-rows';
export { createBigQueryClient, isLoopbackEndpoint, type BigQueryClientOptions } from './client';
export { mapBigQueryError, type BigQueryErrorContext } from './errors';
export { canonicalTimestamp, isoMicros, parseIsoMicros } from './timestamp';
