export { SegmentForwarder, SegmentHttpError, forwardForm, type ForwardReport, type SegmentForwarderOptions } from './forwarder';
