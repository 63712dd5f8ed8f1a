export { startSalesforceEmulator, SALESFORCE_SANDBOX_USER, type SalesforceEmulator, type SalesforceEmulatorOptions } from './emulator';
export { SALESFORCE_ROUTES, type SalesforceRoute } from './routes';
export { SalesforceStore, INTEGRATION_USER_ID, type ApiRecord, type FieldInput, type MutationOptions, type StoreChange } from './store';
export { OBJECTS, OBJECT_NAMES, OPPORTUNITY_STAGES, type SObjectName } from './schema';
export { toSfDateTime, parseSfDateTime } from './time';
export { sfId, toId18 } from './ids';
