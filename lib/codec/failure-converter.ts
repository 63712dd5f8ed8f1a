import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (dataConverter.failureConverterPath) in the worker, its workflow bundle and the
 * clients when payload encryption is on: failure messages and stack traces move into an encoded
 * attribute the payload codec encrypts, since connector errors can quote the records they choked on.
 * Failures recorded before (plain message, no encoded attributes) still decode as they were.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
