import { Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { connectionOptions } from '../../lib/temporal';
import { errorText, fail, pass, withTimeout, type DoctorCheck, type DoctorContext } from './types';

const SERVICE = 'temporal';
const GRPC = { NOT_FOUND: 5, PERMISSION_DENIED: 7, UNAUTHENTICATED: 16 } as const;
const grpcCode = (err: unknown): number | undefined => (typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : undefined);

const LOCAL_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1)$/;

/** Whether a Temporal address is this machine (its histories stay here). */
export function isLocalTemporal(address: string): boolean {
  return LOCAL_HOST.test(address.replace(/:\d+$/, ''));
}

/**
 * Advice: histories on a shared cluster or Temporal Cloud hold what passes through the workflows
 * (webhook events, Segment calls, error messages quoting records) unless payloads are encrypted.
 */
export function payloadEncryptionCheck(t: DoctorContext['config']['temporal']): DoctorCheck {
  if (t.codec) return pass(SERVICE, 'payload encryption', `on (encrypting with key "${t.codec.keys[0].id}", ${t.codec.keys.length} key(s) decrypt)`, false);
  if (isLocalTemporal(t.address)) return pass(SERVICE, 'payload encryption', 'off (local server: histories stay on this machine)', false);
  return fail(
    SERVICE,
    'payload encryption',
    `off: ${t.address} is not local, and its histories hold event properties, Segment calls and error messages in plain text`,
    'set TEMPORAL_CODEC_KEYS (docs/privacy-and-secrets.md) on the worker, webhook and CLI alike',
    false,
  );
}

/** Temporal reachable, the namespace exists, and (advice only) a worker polls the task queue and payloads are encrypted. */
export async function temporalChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const t = ctx.config.temporal;
  const encryption = payloadEncryptionCheck(t);
  let connection: Connection;
  try {
    connection = await withTimeout(Connection.connect(connectionOptions(t)), ctx.timeoutMs, `connecting to ${t.address}`);
  } catch (err) {
    return [
      fail(
        SERVICE,
        'reachable',
        `cannot connect to ${t.address}: ${errorText(err)}`,
        t.devServer
          ? 'start the platform with `npm start` (it runs the local dev server), or set TEMPORAL_ADDRESS to a running server'
          : 'check TEMPORAL_ADDRESS, and TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH or TEMPORAL_API_KEY for Temporal Cloud',
      ),
      encryption,
    ];
  }
  const out: DoctorCheck[] = [pass(SERVICE, 'reachable', t.address), encryption];
  try {
    try {
      await withTimeout(connection.workflowService.describeNamespace({ namespace: t.namespace }), ctx.timeoutMs, 'describing the namespace');
      out.push(pass(SERVICE, `namespace ${t.namespace}`, 'exists'));
    } catch (err) {
      const code = grpcCode(err);
      out.push(
        code === GRPC.NOT_FOUND
          ? fail(SERVICE, `namespace ${t.namespace}`, 'does not exist', `create it (\`temporal operator namespace create --namespace ${t.namespace}\`) or set TEMPORAL_NAMESPACE to an existing one`)
          : code === GRPC.UNAUTHENTICATED || code === GRPC.PERMISSION_DENIED
            ? fail(SERVICE, `namespace ${t.namespace}`, `refused: ${errorText(err)}`, 'check TEMPORAL_API_KEY or the mTLS certificate (TEMPORAL_TLS_CERT_PATH / TEMPORAL_TLS_KEY_PATH) and its access to this namespace')
            : fail(SERVICE, `namespace ${t.namespace}`, errorText(err), 'check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE'),
      );
      return out;
    }
    // Not required: doctor also runs before the worker is started.
    try {
      const tq = await withTimeout(
        connection.workflowService.describeTaskQueue({
          namespace: t.namespace,
          taskQueue: { name: t.taskQueue, kind: proto.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: proto.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        }),
        ctx.timeoutMs,
        'describing the task queue',
      );
      const pollers = tq.pollers?.length ?? 0;
      out.push(
        pollers > 0
          ? pass(SERVICE, `worker on ${t.taskQueue}`, `${pollers} poller(s)`, false)
          : fail(SERVICE, `worker on ${t.taskQueue}`, 'no worker is polling this task queue: schedules and syncs will wait', 'start the worker (`npm start`), with the same TEMPORAL_TASK_QUEUE', false),
      );
    } catch (err) {
      out.push(fail(SERVICE, `worker on ${t.taskQueue}`, errorText(err), 'check TEMPORAL_TASK_QUEUE', false));
    }
    return out;
  } finally {
    await connection.close();
  }
}
