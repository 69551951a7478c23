import { Client, Connection } from '@temporalio/client';
import { startCluster } from '../src/cluster/cluster';
import { createTestDatabase } from '../test/helpers/db';
import { quietTemporal, startTemporal } from '../test/helpers/temporal';
import { startTestCluster } from '../test/helpers/cluster';
import { bulkDispatch, QUIET_CRON, startMaster, type BenchRow } from './dispatch';

// The compose topology from processes (`npm run cluster`), measured:
// - jobs per minute with 1, 2 and 3 slave processes (one master), one-video jobs at the
//   simulator's default generation time; each slave runs SLAVE_CONCURRENT_ACTIVITIES (5)
//   generations at once, each in its own Chromium context;
// - 1,000 PENDING rows → every child workflow started, on the PostgreSQL-backed server
//   against the SQLite dev server (`temporal server start-dev`), same master, same database.

const GENERATION_MS = 3000;
const JOBS_PER_ROUND = 30;
const BULK = 1000;

export async function runClusterBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The slaves are what is measured, not the account's pace: with ACCOUNT_MIN_GAP_MS's
  // default (8 s between two starts on one account) every round ran 7.4 jobs/min whatever the
  // slaves (2026-12-07).
  const t = await startTestCluster({ masters: 1, slaves: 0, generationMs: GENERATION_MS, env: { ACCOUNT_MIN_GAP_MS: '0' } });
  try {
    const perMinute: number[] = [];
    for (let slaves = 1; slaves <= 3; slaves++) {
      while (t.c.slaves.length < slaves) await t.c.startSlave();
      // Warm-up: every slave's browser launched and its first contexts opened.
      const warm = await t.insertJobs(slaves * 2, ['default'], `warm-up ${slaves}`);
      await t.until(warm, (n) => n.COMPLETED === warm.length, 'warm-up', 300_000);
      const started = Date.now();
      const ids = await t.insertJobs(JOBS_PER_ROUND, ['default'], `round ${slaves}`);
      await t.until(ids, (n) => (n.COMPLETED ?? 0) + (n.ERROR ?? 0) === ids.length, `round with ${slaves} slaves`, 600_000);
      const { rows: [span] } = await t.pool.query<{ s: number; errors: number }>(
        `SELECT extract(epoch FROM max(completed_at) - min(created_at))::float AS s, count(*) FILTER (WHERE status = 'ERROR')::int AS errors FROM jobs WHERE id = ANY($1)`, [ids]);
      const rate = (JOBS_PER_ROUND / span!.s) * 60;
      perMinute.push(rate);
      rows.push({
        measure: `${slaves} slave${slaves > 1 ? 's' : ''} × ${5} slots, ${JOBS_PER_ROUND} jobs (${GENERATION_MS} ms generations)`,
        value: `${rate.toFixed(1)} jobs/min (${span!.s.toFixed(1)} s, ${span!.errors} errors; wall ${((Date.now() - started) / 1000).toFixed(0)} s)`,
        target: `× ${(rate / perMinute[0]!).toFixed(2)} of 1 slave`,
      });
    }
  } finally {
    await t.stop();
  }

  // 1,000 PENDING: the PostgreSQL-backed server of the cluster against the dev server.
  quietTemporal();
  const seconds: Record<string, number> = {};
  {
    const c = await startCluster({ masters: 0, slaves: 0 });
    const db = await createTestDatabase();
    const connection = await Connection.connect({ address: c.temporalAddress });
    try {
      const master = await startMaster(db, c.temporalAddress, { listen: true, cron: QUIET_CRON });
      try {
        seconds.postgres = (await bulkDispatch(db, new Client({ connection, namespace: c.namespace }), BULK)).seconds;
      } finally {
        await master.stop();
      }
    } finally {
      await connection.close();
      await db.drop();
      await c.stop();
    }
  }
  {
    const env = await startTemporal();
    const db = await createTestDatabase();
    try {
      const master = await startMaster(db, env.address, { listen: true, cron: QUIET_CRON });
      try {
        seconds.sqlite = (await bulkDispatch(db, env.client as unknown as Client, BULK)).seconds;
      } finally {
        await master.stop();
      }
    } finally {
      await db.drop();
      await env.teardown();
    }
  }
  for (const [store, s] of Object.entries(seconds)) {
    rows.push({
      measure: `${BULK} PENDING → every child started, ${store === 'postgres' ? 'temporal-server on PostgreSQL' : 'dev server (SQLite)'}`,
      value: `${s.toFixed(2)} s (${Math.round(BULK / s)} starts/s)`,
      target: store === 'postgres' ? `× ${(s / seconds.sqlite!).toFixed(2)} the dev server's time` : '',
    });
  }
  return rows;
}
