import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createDb, createPool, type Db } from '../../src/shared/db/client';
import { ensureDatabase, migrateDatabase } from '../../src/shared/db/migrate';

const SERVER_URL = process.env.TEST_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestDatabase {
  url: string;
  name: string;
  pool: Pool;
  db: Db;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file; drop() removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `grokflow_test_${randomBytes(5).toString('hex')}`;
  const url = `${SERVER_URL}/${name}`;
  await ensureDatabase(url);
  await migrateDatabase(url);
  const pool = createPool(url);
  return {
    url,
    name,
    pool,
    db: createDb(pool),
    async drop() {
      await pool.end();
      const admin = new Client({ connectionString: `${SERVER_URL}/postgres` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}
