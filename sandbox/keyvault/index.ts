export { startKeyVaultEmulator } from './server';
export type { KeyVaultEmulator, KeyVaultEmulatorOptions } from './server';
export { SecretStore } from './store';
