/** The Segment sandbox writes timestamps in the same canonical form the BigQuery connector reads. */
export { parseIsoMicros, isoMicros, canonicalTimestamp, MICROS_PER_SECOND, MICROS_PER_HOUR, MICROS_PER_DAY } from '../../connectors/bigquery/timestamp';
