export { AlertCenter } from './center';
export type { AlertCenterOptions, ReconcileOutcome, ObservedProgress } from './center';
export { AlertSender } from './sender';
export type { AlertSenderOptions } from './sender';
export { alertPayload, teamsPayload, slackPayload } from './format';
export { planReconcile } from './reconcile';
export type { ReconcilePlan } from './reconcile';
export { problemSchema, reconcileInputSchema } from './types';
export type { AlertFormat, AlertMessage, Problem, ReconcileInput } from './types';
