import { randomBytes } from 'node:crypto';

/** Secrets of one emulated vault: every version kept, the latest last. */
export interface SecretVersion {
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  created: number;
  updated: number;
}

export class SecretStore {
  private readonly secrets = new Map<string, SecretVersion[]>();

  /** Adds a version (a rotation when the secret exists); answers it. */
  set(name: string, value: string, extra: { contentType?: string; tags?: Record<string, string>; enabled?: boolean } = {}): SecretVersion {
    const now = Math.floor(Date.now() / 1000);
    const v: SecretVersion = { version: randomBytes(16).toString('hex'), value, contentType: extra.contentType, tags: extra.tags, enabled: extra.enabled ?? true, created: now, updated: now };
    const key = name.toLowerCase();
    this.secrets.set(key, [...(this.secrets.get(key) ?? []), v]);
    return v;
  }

  /** The version asked for, or the latest; names are case-insensitive as in Key Vault. */
  get(name: string, version?: string): SecretVersion | undefined {
    const versions = this.secrets.get(name.toLowerCase());
    if (!versions) return undefined;
    return version ? versions.find((v) => v.version === version.toLowerCase()) : versions[versions.length - 1];
  }

  versions(name: string): SecretVersion[] {
    return [...(this.secrets.get(name.toLowerCase()) ?? [])];
  }

  names(): string[] {
    return [...this.secrets.keys()];
  }

  setEnabled(name: string, enabled: boolean, version?: string): void {
    const v = this.get(name, version);
    if (!v) throw new Error(`no secret ${name}${version ? ` version ${version}` : ''}`);
    v.enabled = enabled;
    v.updated = Math.floor(Date.now() / 1000);
  }

  delete(name: string): boolean {
    return this.secrets.delete(name.toLowerCase());
  }
}
