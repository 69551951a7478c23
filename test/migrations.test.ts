import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'pg';
import { migrateDatabase } from '../src/shared/db/migrate';
import { createTestDatabase, type TestDatabase } from './helpers/db';

describe('migrations', () => {
  let t: TestDatabase;
  before(async () => { t = await createTestDatabase(); });
  after(async () => { await t.drop(); });

  test('applying them again, from three processes at once, changes nothing and fails nothing', async () => {
    await Promise.all([migrateDatabase(t.url), migrateDatabase(t.url), migrateDatabase(t.url)]);
    const applied = await t.pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations');
    const files = (await import('node:fs')).readdirSync('migrations').filter((f) => f.endsWith('.sql'));
    assert.equal(applied.rows[0].n, files.length);
  });

  test('one instance row with a uuid identity; a second row and a job_items row for a missing job are refused', async () => {
    const { rows } = await t.pool.query('SELECT identity FROM grokflow_instance');
    assert.equal(rows.length, 1);
    assert.match(rows[0].identity, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    await assert.rejects(t.pool.query('INSERT INTO grokflow_instance (singleton) VALUES (false)'), /grokflow_instance_one_row/);
    await assert.rejects(t.pool.query(`INSERT INTO job_items (job_id, index) VALUES (987654321, 0)`), /job_items_job_id_jobs_id_fk/);
  });

  test('the job status is an enum that refuses unknown values', async () => {
    await assert.rejects(
      t.pool.query(`INSERT INTO jobs (type, status) VALUES ('X', 'DONE')`),
      /invalid input value for enum job_status/,
    );
  });

  test('the claim query is served by an index', async () => {
    await t.pool.query('SET enable_seqscan = off');
    // The capacity claim reads one want's PENDING jobs in claim order (src/master/activities/wants.ts).
    const plan = await t.pool.query(`EXPLAIN SELECT id FROM jobs WHERE status = 'PENDING' AND type = 'T'
      AND payload->>'account' IS NULL AND payload->>'pool' = 'p' AND payload->>'backend' IS NULL
      ORDER BY priority DESC, created_at, id LIMIT 10`);
    assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /jobs_pending_want_idx/);
  });

  test('an INSERT, every status change and progress NOTIFY job_events; other updates do not', async () => {
    const listener = new Client({ connectionString: t.url });
    await listener.connect();
    const heard: Array<Record<string, unknown>> = [];
    listener.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
    await listener.query('LISTEN job_events');
    const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{}') RETURNING id`);
    const id = Number(rows[0].id);
    await t.pool.query(`UPDATE jobs SET priority = 5 WHERE id = $1`, [id]);
    await t.pool.query(`UPDATE jobs SET status = 'INQUEUE' WHERE id = $1`, [id]);
    await t.pool.query(`UPDATE jobs SET progress = 40, progress_message = 'item 1/1: 40%' WHERE id = $1`, [id]);
    await new Promise((r) => setTimeout(r, 200));
    await listener.end();
    const type = 'GROK_VIDEO_GENERATION';
    assert.deepEqual(heard, [
      { id, type, status: 'PENDING', from: null, progress: 0, message: null },
      { id, type, status: 'INQUEUE', from: 'PENDING', progress: 0, message: null },
      { id, type, status: 'INQUEUE', from: 'INQUEUE', progress: 40, message: 'item 1/1: 40%' },
    ]);
  });
});
