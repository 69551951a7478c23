import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { startCluster, type Cluster, type ClusterOptions } from '../../src/cluster/cluster';
import { waitFor } from './wait';

export interface TestCluster {
  c: Cluster;
  pool: Pool;
  client: Client;
  /** Inserts `n` one-video jobs with plain SQL, their accounts taken in turn from `accounts`. */
  insertJobs(n: number, accounts: string[], tag: string): Promise<number[]>;
  /** Statuses of `ids`, counted. */
  statuses(ids: number[]): Promise<Record<string, number>>;
  /** Until `done(counts)` holds, polling the jobs table; the error names the counts. */
  until(ids: number[], done: (counts: Record<string, number>) => boolean, what: string, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** `npm run cluster`'s topology (src/cluster), plus a pool on its database and an SDK client. */
export async function startTestCluster(options: ClusterOptions): Promise<TestCluster> {
  const c = await startCluster(options);
  const pool = new Pool({ connectionString: c.databaseUrl, max: 4 });
  const connection = await Connection.connect({ address: c.temporalAddress });
  const client = new Client({ connection, namespace: c.namespace });
  const statuses = async (ids: number[]) => {
    const { rows } = await pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [ids]);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  };
  return {
    c, pool, client, statuses,
    async insertJobs(n, accounts, tag) {
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO jobs (type, payload)
         SELECT 'GROK_VIDEO_GENERATION', jsonb_build_object('prompt', $1 || ' ' || g, 'account', ($2::text[])[1 + g % array_length($2::text[], 1)])
         FROM generate_series(1, $3) g RETURNING id`,
        [tag, accounts, n],
      );
      return rows.map((r) => Number(r.id));
    },
    async until(ids, done, what, timeoutMs) {
      let counts: Awaited<ReturnType<typeof statuses>> | undefined;
      await waitFor(() => `${what}: not after ${timeoutMs} ms, jobs are ${JSON.stringify(counts)}; logs in ${c.logsDir}`, async () => {
        counts = await statuses(ids);
        return done(counts);
      }, timeoutMs, 500);
    },
    async stop() {
      await connection.close().catch(() => undefined);
      await pool.end();
      await c.stop();
    },
  };
}
