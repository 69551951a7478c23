import { createHash, createHmac, randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '../shared/db/client';

// Console sessions as rows (table web_sessions, migration 0010): a login inserts one, a
// logout deletes it, and a cookie counts only while its row is there, unexpired, and was
// opened with the WEB_TOKEN the console runs with now. The browser holds a random id; the
// database holds its hash, so reading the table gives nobody a session.

export interface Sessions {
  /** A new session: the cookie's value. */
  open(): Promise<string>;
  /** Whether the cookie's value is a live session. */
  valid(value: string): Promise<boolean>;
  /** Ends the session (logout); an unknown value changes nothing. */
  end(value: string): Promise<void>;
  readonly maxAgeSeconds: number;
}

const hash = (value: string) => createHash('sha256').update(value).digest('hex');

export function webSessions(db: Db, token: string, hours: number): Sessions {
  const tokenMac = createHmac('sha256', token).update('grokflow web session').digest('hex');
  const maxAgeSeconds = Math.round(hours * 3600);
  return {
    maxAgeSeconds,
    async open() {
      const value = randomBytes(32).toString('base64url');
      // Expired rows are only clutter (they never count): cleared at each login.
      await db.execute(sql`DELETE FROM web_sessions WHERE expires_at < now()`);
      await db.execute(sql`INSERT INTO web_sessions (id_hash, token_mac, expires_at)
        VALUES (${hash(value)}, ${tokenMac}, now() + make_interval(secs => ${maxAgeSeconds}))`);
      return value;
    },
    async valid(value) {
      if (!/^[\w-]{43}$/.test(value)) return false;
      const { rows } = await db.execute(sql`SELECT 1 FROM web_sessions
        WHERE id_hash = ${hash(value)} AND token_mac = ${tokenMac} AND expires_at > now()`);
      return rows.length === 1;
    },
    async end(value) {
      await db.execute(sql`DELETE FROM web_sessions WHERE id_hash = ${hash(value)}`);
    },
  };
}
