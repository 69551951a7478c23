import type { Db } from './client';
import { grokflowInstance } from './schema';

// A database's identity (migration 0002 makes it, one row). Job ids restart at 1 in every
// database, so a job is its database identity AND its id: workflows carry the identity in
// their input, memo and the GrokflowInstance search attribute, download sidecars name it,
// and everything acting on a row first checks it (slave/activities/guard.ts).

// Per process and per database handle: it never changes, so it is read once.
const cache = new WeakMap<Db, Promise<string>>();

/** This database's identity (a uuid). Throws, naming the fix, when the migration is missing. */
export function databaseIdentity(db: Db): Promise<string> {
  let identity = cache.get(db);
  if (!identity) {
    identity = readIdentity(db);
    cache.set(db, identity);
    // A failed read (database down) is not remembered: the next call asks again.
    identity.catch(() => cache.delete(db));
  }
  return identity;
}

async function readIdentity(db: Db): Promise<string> {
  const [row] = await db.select({ identity: grokflowInstance.identity }).from(grokflowInstance).limit(1);
  if (!row) throw new Error('grokflow_instance holds no row: run the migrations (npm run setup)');
  return row.identity;
}
