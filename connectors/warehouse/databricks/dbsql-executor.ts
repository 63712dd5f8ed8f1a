import type { ConnectionOptions, OpenSessionRequest } from '@databricks/sql/dist/contracts/IDBSQLClient';
import type IDBSQLLogger from '@databricks/sql/dist/contracts/IDBSQLLogger';
import type { LogLevel } from '@databricks/sql/dist/contracts/IDBSQLLogger';
import type { ExecuteStatementOptions } from '@databricks/sql/dist/contracts/IDBSQLSession';
import type { WarehouseConfig } from '../../../config/config';
import { logger } from '../../../config/logger';
import type { RawRow } from '../dialect';
import type { DatabricksTarget } from './errors';
import { describeDatabricksError } from './errors';
import type { ExecuteOptions, SqlExecutor } from './sql-executor';

/** The connection part of the platform's Databricks settings (config/config.ts). */
export type DbsqlConfig = Omit<Extract<WarehouseConfig, { kind: 'databricks' }>, 'kind' | 'volume'>;

/** The parts of the driver this executor uses, so tests can stand in for it. */
export interface DriverOperation {
  fetchAll(): Promise<object[]>;
  close(): Promise<unknown>;
}
export interface DriverSession {
  executeStatement(sql: string, options?: ExecuteStatementOptions): Promise<DriverOperation>;
  close(): Promise<unknown>;
}
export interface DriverClient {
  connect(options: ConnectionOptions): Promise<unknown>;
  openSession(request?: OpenSessionRequest): Promise<DriverSession>;
  close(): Promise<void>;
}

/** The driver's log lines go to our logger at debug level (errors reach callers as exceptions). */
const driverLogger: IDBSQLLogger = {
  log: (level: LogLevel, message: string) => logger().debug({ component: 'databricks-driver', level }, message),
};

async function realClient(): Promise<DriverClient> {
  const { DBSQLClient } = await import('@databricks/sql');
  return new DBSQLClient({ logger: driverLogger }) as unknown as DriverClient;
}

const SESSION_GONE = /invalid session|session.*(expired|closed|not found)|SessionHandle/i;

/**
 * SQL on a Databricks SQL warehouse through @databricks/sql: PAT or OAuth M2M, one session,
 * reopened once if the warehouse dropped it. Every failure is described by describeDatabricksError.
 */
export class DbsqlExecutor implements SqlExecutor {
  private session?: DriverSession;

  private constructor(
    private readonly client: DriverClient,
    private readonly config: DbsqlConfig,
    private readonly target: DatabricksTarget,
  ) {}

  static async connect(config: DbsqlConfig, opts: { client?: DriverClient; connection?: Partial<ConnectionOptions> } = {}): Promise<DbsqlExecutor> {
    const auth: DatabricksTarget['auth'] = config.token ? 'token' : 'oauth';
    const target: DatabricksTarget = { host: config.host, httpPath: config.httpPath, auth, catalog: config.catalog };
    if (!config.token && !(config.clientId && config.clientSecret))
      throw describeDatabricksError(new Error('OAuth: no credentials'), target);
    const client = opts.client ?? (await realClient());
    const base = { host: config.host, path: config.httpPath, telemetryEnabled: false, userAgentEntry: 'novade-sync' };
    const connection = (
      config.token
        ? { ...base, token: config.token }
        : { ...base, authType: 'databricks-oauth', oauthClientId: config.clientId, oauthClientSecret: config.clientSecret }
    ) as ConnectionOptions;
    try {
      await client.connect({ ...connection, ...opts.connection } as ConnectionOptions);
    } catch (err) {
      throw describeDatabricksError(err, target);
    }
    const executor = new DbsqlExecutor(client, config, target);
    await executor.openSession();
    return executor;
  }

  private async openSession(): Promise<DriverSession> {
    try {
      const session = await this.client.openSession({ initialCatalog: this.config.catalog });
      // Timestamps are instants; UTC keeps any text rendering of them unambiguous.
      const op = await session.executeStatement(`SET TIME ZONE 'UTC'`);
      await op.close();
      this.session = session;
      logger().info({ host: this.config.host, catalog: this.config.catalog, auth: this.target.auth }, 'databricks session opened');
      return session;
    } catch (err) {
      throw describeDatabricksError(err, this.target);
    }
  }

  async execute(sql: string, params?: Record<string, string> | readonly unknown[], opts: ExecuteOptions = {}): Promise<RawRow[]> {
    const options: ExecuteStatementOptions = {};
    if (Array.isArray(params)) options.ordinalParameters = params as ExecuteStatementOptions['ordinalParameters'];
    else if (params && Object.keys(params).length > 0) options.namedParameters = params as Record<string, string>;
    if (opts.stagingAllowedLocalPath) options.stagingAllowedLocalPath = opts.stagingAllowedLocalPath;
    let reopened = false;
    for (;;) {
      const session = this.session ?? (await this.openSession());
      try {
        const op = await session.executeStatement(sql, options);
        try {
          return (await op.fetchAll()) as RawRow[];
        } finally {
          await op.close().catch(() => undefined);
        }
      } catch (err) {
        // Every statement the adapter sends is safe to run twice, so a lost session costs one retry.
        if (!reopened && SESSION_GONE.test(String((err as Error)?.message ?? err))) {
          reopened = true;
          this.session = undefined;
          continue;
        }
        throw describeDatabricksError(err, this.target, sql);
      }
    }
  }

  async close(): Promise<void> {
    await this.session?.close().catch(() => undefined);
    this.session = undefined;
    await this.client.close().catch(() => undefined);
  }
}
