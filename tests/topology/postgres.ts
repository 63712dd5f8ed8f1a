import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { run, startProc, waitUntil, type Proc } from './processes';

/** Debian 12's PostgreSQL 15 (scripts/setup.sh --for-topology installs it). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

export interface Postgres {
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** PostgreSQL refuses to run as root: as root, the cluster belongs to and runs as the `postgres` user. */
function asUser(): { wrap: (cmd: string, args: string[]) => [string, string[]]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { wrap: (cmd, args) => [cmd, args] };
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { wrap: (cmd, args) => ['runuser', ['-u', 'postgres', '--', cmd, ...args]], uid, gid };
}

/**
 * A throwaway PostgreSQL cluster in `dir`, on a free loopback port, with a superuser `temporal`
 * (password auth over TCP, as docker-compose.yml's postgres:16 image sets it up). fsync is off: the
 * cluster lives for one test run and is never crashed, only the processes in front of it are.
 */
export async function startPostgres(dir: string, logDir: string): Promise<Postgres> {
  const user = 'temporal';
  const password = 'temporal';
  const as = asUser();
  const data = path.join(dir, 'pgdata');
  const sockets = path.join(dir, 'pgsock');
  fs.mkdirSync(sockets, { recursive: true });
  const pwfile = path.join(dir, 'pgpass');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (as.uid !== undefined) for (const p of [dir, sockets, pwfile]) fs.chownSync(p, as.uid, as.gid!);
  const [initCmd, initArgs] = as.wrap(path.join(PG_BIN, 'initdb'), ['-D', data, '-U', user, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-sync']);
  await run({ name: 'postgres-initdb', command: initCmd, args: initArgs, logDir, timeoutMs: 120_000 });
  const port = await freePort();
  const [cmd, args] = as.wrap(path.join(PG_BIN, 'postgres'), [
    '-D', data, '-p', String(port), '-k', sockets, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
  ]);
  const server: Proc = startProc({ name: 'postgres', command: cmd, args, logDir });
  await waitUntil(
    'PostgreSQL to accept connections',
    () => {
      if (!server.running()) throw new Error(`postgres exited. Log tail:\n${server.tail()}`);
      try {
        execFileSync(path.join(PG_BIN, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    },
    (ok) => ok,
    60_000,
  );
  return { port, user, password, stop: async () => void (await server.stop('SIGINT', 30_000)) };
}
