import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { Pool, type PoolConfig } from 'pg';
import * as schema from './schema';

export type Db = NodePgDatabase<typeof schema>;
/** A database or a transaction on it: what a function needs to take part in a caller's transaction. */
export type Executor = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export function createPool(databaseUrl: string, options: PoolConfig = {}): Pool {
  const pool = new Pool({ connectionString: databaseUrl, max: 10, ...options });
  // An idle client that loses its server (Postgres restart) must not crash the process;
  // the pool drops it and the next query gets a fresh one.
  pool.on('error', () => undefined);
  // A client checked out between two queries (inside a transaction) has no listener: pg-pool
  // removes its idle one. A server going away then would be an unhandled 'error' that kills
  // the process (found by test/faults.test.ts restarting PostgreSQL). With this listener the
  // next query on it fails instead, and the pool drops it on release (it is not queryable).
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createDb(pool: Pool): Db {
  return drizzle(pool, { schema });
}
