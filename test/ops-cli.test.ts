import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { and, inArray, isNotNull, sql } from 'drizzle-orm';
import { jobFilterSql } from '../src/cli/jobFilter';
import { jobEvents, jobs } from '../src/shared/db/schema';
import { runCli, show } from './helpers/cli';
import { createTestDatabase, type TestDatabase } from './helpers/db';

// Operating many jobs through the real CLI (issue 25): find by prompt (through the trigram
// index), filters, bulk retry and cancel with a preview, idempotent. A database of a few
// hundred jobs, written with plain SQL as a pipeline would.

const VIDEO = 'GROK_VIDEO_GENERATION';
const IMAGE = 'GROK_IMAGE_GENERATION';
const WORDS = ['lighthouse', 'meadow', 'harbor', 'glacier', 'market', 'canyon', 'orchard', 'subway'];

describe('operating jobs from the CLI', () => {
  let t: TestDatabase;
  let env: Record<string, string>;
  const cli = (...args: string[]) => runCli(args, { env });
  let needle: number;

  before(async () => {
    t = await createTestDatabase();
    env = { DATABASE_URL: t.url, LOG_LEVEL: 'warn' };
    // 300 jobs: 200 COMPLETED videos, 40 ERROR videos of pool "night" (last night's failures),
    // 30 PENDING images, 29 PENDING api videos, and one video whose prompt holds a rare word.
    await t.pool.query(`
      INSERT INTO jobs (type, status, payload, created_at)
      SELECT '${VIDEO}', 'COMPLETED', jsonb_build_object('prompt', 'a ' || (ARRAY[${WORDS.map((w) => `'${w}'`).join(',')}])[1 + g % 8] || ' at dusk, take ' || g), now() - interval '3 days'
      FROM generate_series(1, 200) g`);
    await t.pool.query(`
      INSERT INTO jobs (type, status, payload, error_message, created_at)
      SELECT '${VIDEO}', 'ERROR', jsonb_build_object('prompts', jsonb_build_array('night shot ' || g, 'second shot ' || g), 'pool', 'night'), 'rate limited', now() - interval '10 hours'
      FROM generate_series(1, 40) g`);
    await t.pool.query(`
      INSERT INTO jobs (type, payload) SELECT '${IMAGE}', jsonb_build_object('prompt', 'an icon of a ' || g) FROM generate_series(1, 30) g`);
    await t.pool.query(`
      INSERT INTO jobs (type, payload) SELECT '${VIDEO}', jsonb_build_object('prompt', 'api clip ' || g, 'backend', 'api', 'duration', '6s') FROM generate_series(1, 29) g`);
    const { rows } = await t.pool.query(`INSERT INTO jobs (type, status, payload) VALUES ('${VIDEO}', 'COMPLETED', '{"prompt":"a zeppelin over Lisbon at noon"}') RETURNING id`);
    needle = Number(rows[0].id);
    await t.pool.query('ANALYZE jobs');
  });
  after(async () => { await t?.drop(); });

  test('jobs list --search finds a job by a word of its prompt, with its summary', async () => {
    const r = await cli('jobs', 'list', '--search', 'Zeppelin', '--json');
    assert.equal(r.code, 0, show(r));
    const found = JSON.parse(r.stdout) as Array<{ id: number; summary: { prompt: string; count: number; backend: string } }>;
    assert.deepEqual(found.map((j) => j.id), [needle]);
    assert.deepEqual(found[0]!.summary, { prompt: 'a zeppelin over Lisbon at noon', count: 1, backend: 'default' });
    // A word inside `prompts` counts too; the table shows the first prompt and the count.
    const table = await cli('jobs', 'list', '--search', 'night shot 17', '--limit', '5');
    assert.equal(table.code, 0, show(table));
    assert.match(table.stdout, /night shot 17\b/);
    assert.match(table.stdout, /│ 2 +│/);
    // A search is text: % and _ match themselves.
    const pct = await cli('jobs', 'list', '--search', '%', '--json');
    assert.deepEqual(JSON.parse(pct.stdout), []);
  });

  test('the search is served by the trigram index, not a scan of the table', async () => {
    const query = t.db.select({ id: jobs.id }).from(jobs).where(jobFilterSql({ search: 'zeppelin' })).toSQL();
    // At 300 rows (8 pages) reading the table is cheapest and PostgreSQL rightly does; with
    // scans priced out (as the claim index test does) it must find an index whose expression
    // is the query's, or it still scans: the plan proves the filter's SQL matches the index.
    const client = await t.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      const plan = (await client.query(`EXPLAIN ANALYZE ${query.sql}`, query.params)).rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Bitmap Index Scan on jobs_prompt_trgm_idx/, plan);
      assert.doesNotMatch(plan, /Seq Scan/, plan);
      assert.match(plan, /actual time=[\d.]+\.\.[\d.]+ rows=1 /, plan);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });

  test('filters: status, type, pool, account, dates; bad values are named', async () => {
    const count = async (...args: string[]) => {
      const r = await cli('jobs', 'list', '--limit', '1000', '--json', ...args);
      assert.equal(r.code, 0, show(r));
      return (JSON.parse(r.stdout) as unknown[]).length;
    };
    assert.equal(await count('--status', 'error', '--pool', 'night'), 40);
    assert.equal(await count('--type', 'image'), 30);
    assert.equal(await count('--pool', 'default', '--status', 'pending'), 59);
    assert.equal(await count('--since', '1d'), 100);
    assert.equal(await count('--until', '1d', '--search', 'lighthouse'), 25);
    const bad = await cli('jobs', 'list', '--since', 'yesterday');
    assert.equal(bad.code, 2, show(bad));
    assert.match(bad.stderr, /--since must be a date .* got "yesterday"/);
    const badStatus = await cli('jobs', 'list', '--status', 'DONE');
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /--status must be one of PENDING/);
  });

  test('a bulk retry of 40 failed jobs previews 40, makes 40 PENDING jobs once; a second run makes none', async () => {
    const dry = await cli('jobs', 'retry', '--status', 'ERROR', '--pool', 'night', '--since', '1d', '--dry-run', '--json');
    assert.equal(dry.code, 0, show(dry));
    const preview = JSON.parse(dry.stdout) as { count: number; jobs: Array<{ id: number }> };
    assert.equal(preview.count, 40);
    assert.equal(preview.jobs.length, 40);
    assert.equal((await t.db.select().from(jobs).where(isNotNull(jobs.retryOf))).length, 0, 'a dry run changes nothing');

    const text = await cli('jobs', 'retry', '--pool', 'night', '--dry-run');
    assert.match(text.stdout, /^40 job\(s\) to retry/m);
    assert.match(text.stdout, /dry run: nothing changed; to retry them: grokflow jobs retry --pool night --yes/);

    // Without a terminal to confirm on, it asks for --yes and changes nothing.
    const unconfirmed = await cli('jobs', 'retry', '--pool', 'night');
    assert.equal(unconfirmed.code, 2, show(unconfirmed));
    assert.match(unconfirmed.stderr, /add --yes to retry these 40 job\(s\)/);

    const run = await cli('jobs', 'retry', '--pool', 'night', '--status', 'error', '--yes');
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /retry: 40 job\(s\) acted on, 0 skipped \(bulk-/);
    const copies = await t.db.select().from(jobs).where(isNotNull(jobs.retryOf));
    assert.equal(copies.length, 40);
    assert.ok(copies.every((c) => c.status === 'PENDING'));
    assert.deepEqual(new Set(copies.map((c) => c.retryOf)), new Set(preview.jobs.map((j) => j.id)));
    // Each failed job's events record the retry, naming the bulk action and the new job.
    const events = await t.db.select().from(jobEvents).where(and(inArray(jobEvents.jobId, preview.jobs.map((j) => j.id)), sql`${jobEvents.detail}->>'action' = 'retry'`));
    assert.equal(events.length, 40);
    assert.equal(new Set(events.map((e) => (e.detail as { bulk: string }).bulk)).size, 1);

    const again = await cli('jobs', 'retry', '--pool', 'night', '--yes');
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /^0 job\(s\) to retry/m);
    assert.equal((await t.db.select().from(jobs).where(isNotNull(jobs.retryOf))).length, 40);
  });

  test('a bulk cancel previews the api jobs\' estimated cost, ends PENDING jobs, and a second run changes nothing', async () => {
    const dry = await cli('jobs', 'cancel', '--search', 'api clip', '--dry-run', '--json');
    assert.equal(dry.code, 0, show(dry));
    const preview = JSON.parse(dry.stdout) as { count: number; apiJobs: number; estimate: string };
    assert.equal(preview.count, 29);
    assert.equal(preview.apiJobs, 29);
    // 29 videos × 6 s × $0.05/s (XAI_VIDEO_USD_PER_SECOND's default).
    assert.equal(preview.estimate, '$8.70');

    const run = await cli('jobs', 'cancel', '--search', 'api clip', '--yes');
    assert.equal(run.code, 0, show(run));
    assert.match(run.stdout, /cancel: 29 job\(s\) acted on, 0 skipped/);
    const cancelled = await t.db.select().from(jobs).where(sql`payload->>'backend' = 'api'`);
    assert.ok(cancelled.every((j) => j.status === 'ERROR' && j.errorMessage === 'cancelled'));
    const again = await cli('jobs', 'cancel', '--search', 'api clip', '--yes');
    assert.match(again.stdout, /^0 job\(s\) to cancel/m);

    const everything = await cli('jobs', 'cancel', '--yes');
    assert.equal(everything.code, 2);
    assert.match(everything.stderr, /give a job id, or filter flags/);
    const ended = await cli('jobs', 'cancel', '--status', 'COMPLETED', '--yes');
    assert.equal(ended.code, 2);
    assert.match(ended.stderr, /cancel acts on unfinished jobs/);
  });

  test('pause and resume a type or a pool: shown by `pauses` and above `jobs list`', async () => {
    const paused = await cli('pause', '--pool', 'night', '--reason', 'fixing the accounts');
    assert.equal(paused.code, 0, show(paused));
    assert.match(paused.stdout, /pool night paused/);
    const typePaused = await cli('pause', '--type', 'image');
    // No Temporal here: the pause holds (the claim reads the row); the schedule waits for the master.
    assert.equal(typePaused.code, 0, show(typePaused));
    assert.match(typePaused.stdout, /type GROK_IMAGE_GENERATION paused/);
    const list = await cli('jobs', 'list', '--limit', '1');
    assert.match(list.stdout, /^paused: pool night \(fixing the accounts\), type GROK_IMAGE_GENERATION$/m);
    const both = await cli('pause', '--type', 'image', '--pool', 'x');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /give --type or --pool/);
    assert.equal((await cli('resume', '--pool', 'night')).stdout.trim(), 'pool night resumed');
    assert.equal((await cli('resume', '--pool', 'night')).stdout.trim(), 'pool night was not paused');
    const left = JSON.parse((await cli('pauses', '--json')).stdout) as Array<{ scope: string; name: string }>;
    assert.deepEqual(left.map((p) => `${p.scope} ${p.name}`), ['type GROK_IMAGE_GENERATION']);
    await cli('resume', '--type', 'image');
    const none = await t.db.execute(sql`SELECT count(*)::int AS n FROM job_pauses`);
    assert.equal(none.rows[0]!.n, 0);
  });

  test('jobs import: one bad row refuses the whole CSV naming its line; --skip-invalid adds the others; a key is imported once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-import-'));
    const file = path.join(dir, 'prompts.csv');
    fs.writeFileSync(file, [
      'key,prompt,prompts,count,duration,pool,upscale',
      'k1,a kestrel in flight,,2,6s,,true',
      'k2,,"kestrel dawn|kestrel dusk, windy",,,night,',
      'k3,a kestrel nest,,500,,,',
      'k4,"a kestrel, quoted",,,,,',
      '',
    ].join('\n'));
    const before = (await t.db.select().from(jobs)).length;
    const refused = await cli('jobs', 'import', file);
    assert.equal(refused.code, 2, show(refused));
    assert.match(refused.stderr, /1 of 4 row\(s\) invalid, nothing imported/);
    assert.match(refused.stderr, /line 4: invalid payload: payload\.count: /);
    assert.equal((await t.db.select().from(jobs)).length, before, 'nothing added');

    const dry = await cli('jobs', 'import', file, '--dry-run');
    assert.equal(dry.code, 0, show(dry));
    assert.match(dry.stdout, /dry run: 3 of 4 row\(s\) would be added/);

    const skipped = await cli('jobs', 'import', file, '--skip-invalid', '--json');
    assert.equal(skipped.code, 0, show(skipped));
    const result = JSON.parse(skipped.stdout) as { added: number[]; invalid: Array<{ line: number }> };
    assert.equal(result.added.length, 3);
    assert.deepEqual(result.invalid.map((i) => i.line), [4]);
    const added = await t.db.select().from(jobs).where(inArray(jobs.id, result.added));
    const byKey = Object.fromEntries(added.map((j) => [j.importKey, j]));
    assert.deepEqual(byKey.k1!.payload, { prompt: 'a kestrel in flight', count: 2, duration: '6s', upscale: true });
    assert.deepEqual(byKey.k2!.payload, { prompts: ['kestrel dawn', 'kestrel dusk, windy'], pool: 'night' });
    assert.deepEqual(byKey.k4!.payload, { prompt: 'a kestrel, quoted' });
    assert.ok(added.every((j) => j.status === 'PENDING' && j.type === VIDEO));

    // Again, with the bad row fixed: only the new key is added.
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(',500,', ',5,'));
    const again = await cli('jobs', 'import', file);
    assert.equal(again.code, 0, show(again));
    assert.match(again.stdout, /line 2: key "k1" imported already as job \d+/);
    assert.match(again.stdout, /^1 job\(s\) added/m);
    assert.equal((await t.db.select().from(jobs)).length, before + 4);

    // JSON lines, with its own type column and a line that is not JSON.
    const jsonl = path.join(dir, 'images.jsonl');
    fs.writeFileSync(jsonl, '{"type":"image","prompt":"a kestrel icon","count":2}\n\nnot json\n');
    const lines = await cli('jobs', 'import', jsonl);
    assert.equal(lines.code, 2);
    assert.match(lines.stderr, /line 3: not JSON/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
