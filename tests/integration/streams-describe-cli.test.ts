import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../client/cli';
import { CliContext } from '../../client/cli-context';
import { buildConfig, type AppConfig } from '../../config/config';
import { startSalesforceEmulator, type SalesforceEmulator } from '../../sandbox/salesforce';

/** `npx novade streams discover | check` against the Salesforce emulator. */

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

let emu: SalesforceEmulator;
let dir: string;
const configWith = (file: string): AppConfig => {
  const c = buildConfig({ STREAMS_FILE: file }, os.tmpdir());
  return { ...c, salesforce: { ...c.salesforce, loginUrl: emu.url } };
};
const cli = async (config: AppConfig, ...args: string[]) => {
  const out = new Capture();
  const code = await runCli(args, new CliContext(out, config));
  return { code, out: out.text };
};

beforeAll(async () => {
  emu = await startSalesforceEmulator({ port: 0, scale: 0.02 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'streams-cli-'));
}, 60_000);
afterAll(async () => {
  await emu?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const defaultFile = path.resolve(__dirname, '../../config/streams.yaml');

describe('npx novade streams discover salesforce', () => {
  it('lists the queryable objects with custom ones marked', async () => {
    const r = await cli(configWith(defaultFile), 'streams', 'discover', 'salesforce');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Project__c\s+Project\s+custom/);
    expect(r.out).toMatch(/^Contact\s+Contact\s*$/m);
    expect(r.out).toContain('5 queryable objects (1 custom)');
  });

  it("shows an object's fields with their columns per warehouse, compounds and formulas, and a YAML entry that parses", async () => {
    const r = await cli(configWith(defaultFile), 'streams', 'discover', 'salesforce', '--object', 'Account');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Site_Location__Latitude__s\s+double\s+site_location_latitude\s+DOUBLE\s+DOUBLE\s+custom; part of Site_Location__c/);
    expect(r.out).toMatch(/BillingAddress\s+address\s+-\s+-\s+-\s+not read: compound address/);
    expect(r.out).toMatch(/Novade_Customer_Id__c\s+string\s+novade_customer_id\s+VARCHAR\s+STRING\s+custom/);
    // The snippet is a valid streams file: paste it alone and `streams check` accepts it.
    const snippet = r.out.slice(r.out.indexOf('# Account:'));
    const file = path.join(dir, 'pasted.yaml');
    fs.writeFileSync(file, `version: 1\n${snippet}`);
    const check = await cli(configWith(file), 'streams', 'check');
    expect(check.out).toContain('every field readable');
    expect(check.code).toBe(0);

    const json = JSON.parse((await cli(configWith(defaultFile), 'streams', 'discover', 'salesforce', '--object', 'Contact', '--json')).out) as { fields: { field: string; notes: string[] }[] };
    expect(json.fields.find((f) => f.field === 'Full_Name__c')?.notes.join(' ')).toMatch(/formula/);
  });

  it('an unknown object says how to fix it', async () => {
    const r = await cli(configWith(defaultFile), 'streams', 'discover', 'salesforce', '--object', 'Widget__c');
    expect(r.code).toBe(1);
  });
});

describe('npx novade streams check', () => {
  it('the default file passes against the sandbox org', async () => {
    const r = await cli(configWith(defaultFile), 'streams', 'check');
    expect(r.out).toContain('every field readable with the type novade-sync expects');
    expect(r.code).toBe(0);
  });

  it('names missing, hidden and retyped fields and exits 1', async () => {
    const file = path.join(dir, 'streams.yaml');
    fs.writeFileSync(
      file,
      [
        'version: 1',
        'salesforce:',
        '  objects:',
        '    - object: Account',
        '      fields: [Id, Name, NumberOfEmployees, Secret_Margin__c, SystemModstamp]',
        '    - object: Contact',
        '      fields: [Id, Email, Job_Role__c, SystemModstamp]',
        '    - object: Project__c',
        '      fields: all',
        '',
      ].join('\n'),
    );
    emu.store.hideField('Contact', 'Job_Role__c');
    emu.store.retypeField('Account', 'NumberOfEmployees', 'string', { length: 40 });
    const r = await cli(configWith(file), 'streams', 'check');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Account\s+Secret_Margin__c\s+unreadable/);
    expect(r.out).toMatch(/Contact\s+Job_Role__c\s+unreadable/);
    expect(r.out).toMatch(/Account\s+NumberOfEmployees\s+retyped\s+Account\.NumberOfEmployees is string in Salesforce, stored as int \(bigint\)/);
    expect(r.out).toMatch(/note: Project__c\.Is_Active__c is a formula/);
  });
});
