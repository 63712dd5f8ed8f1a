import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DatabricksWarehouse } from '../../connectors/warehouse/databricks/databricks-warehouse';
import { DbsqlExecutor } from '../../connectors/warehouse/databricks/dbsql-executor';
import type { WarehouseHooks } from '../../connectors/warehouse/hooks';
import { PermanentError } from '../../lib/errors';
import { warehouseContract } from './warehouse-contract';

/**
 * The contract against a real Databricks SQL warehouse. Runs only when DATABRICKS_HOST,
 * DATABRICKS_HTTP_PATH and a credential (DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and
 * DATABRICKS_CLIENT_SECRET) are set; tables are prefixed per run and dropped afterwards.
 */

const env = process.env;
const configured = Boolean(env.DATABRICKS_HOST && env.DATABRICKS_HTTP_PATH && (env.DATABRICKS_TOKEN || (env.DATABRICKS_CLIENT_ID && env.DATABRICKS_CLIENT_SECRET)));
if (!configured)
  console.warn('[warehouse-databricks] SKIPPED: set DATABRICKS_HOST, DATABRICKS_HTTP_PATH and DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID/SECRET) to run the contract on a real workspace.');

const catalog = env.DATABRICKS_CATALOG ?? 'novade';
const config = {
  host: env.DATABRICKS_HOST ?? '',
  httpPath: env.DATABRICKS_HTTP_PATH ?? '',
  token: env.DATABRICKS_TOKEN,
  clientId: env.DATABRICKS_CLIENT_ID,
  clientSecret: env.DATABRICKS_CLIENT_SECRET,
  catalog,
};
const prefix = `ct_${randomBytes(3).toString('hex')}`;

describe.skipIf(!configured)('real Databricks workspace', () => {
  warehouseContract({
    name: `Databricks ${env.DATABRICKS_HOST ?? ''}`,
    timeoutMs: 600_000,
    prefix,
    largeRows: 3000,
    setup: async () => {
      const executor = await DbsqlExecutor.connect(config);
      const hooks: WarehouseHooks = {};
      // A low Volume threshold so the contract also exercises PUT + COPY INTO.
      const open = () => new DatabricksWarehouse({ executor, catalog, volume: env.DATABRICKS_VOLUME ?? 'staging', volumeAboveRows: 1000, hooks });
      const target = {
        warehouse: open(),
        hooks,
        reopen: async () => {
          target.warehouse = open();
        },
        exec: (sql: string) => executor.execute(sql),
        table: (layer: string, name: string) => `\`${catalog}\`.\`${layer}\`.\`${name}\``,
        close: async () => {
          for (const layer of ['bronze', 'silver'])
            for (const row of await executor.execute(`SHOW TABLES IN \`${catalog}\`.\`${layer}\` LIKE '${prefix}*'`))
              await executor.execute(`DROP TABLE IF EXISTS \`${catalog}\`.\`${layer}\`.\`${String(row.tableName)}\``);
          await executor.close();
        },
      };
      return target;
    },
  });

  it('fails with a message naming DATABRICKS_TOKEN for a wrong token', async () => {
    const err = await DbsqlExecutor.connect({ ...config, token: 'dapi00000000000000000000000000000000', clientId: undefined, clientSecret: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/DATABRICKS_TOKEN/);
  }, 120_000);
});
