import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { createClaim } from '../src/master/activities/claim';
import { scheduleId } from '../src/master/schedules';
import { runMaster } from '../src/master/worker';
import { loadConfig, type Config } from '../src/shared/config';
import { jobs, type Job } from '../src/shared/db/schema';
import { createLogger } from '../src/shared/logger';
import { registerPauseGauge, registry } from '../src/shared/metrics';
import { runCli, show } from './helpers/cli';
import { startDbAndTemporal, type DbAndTemporal } from './helpers/dbAndTemporal';
import { waitFor } from './helpers/wait';

// Pause and resume against a running master (issue 25): a paused pool or type gets no new
// claim, a resume is heard through grokflow_capacity and claims at once. The cron is once a
// year, so only the NOTIFY listener can have claimed anything here. No slave: a claimed job
// stays INQUEUE, which is all these tests look at.

const VIDEO = 'GROK_VIDEO_GENERATION';
const IMAGE = 'GROK_IMAGE_GENERATION';

describe('pause and resume with a running master', () => {
  let f: DbAndTemporal;
  let config: Config;
  let env: Record<string, string>;
  const stop = new AbortController();
  let master: Promise<void>;
  const logger = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
  const cli = (...args: string[]) => runCli(args, { env });
  const insert = async (type: string, payload: Record<string, unknown>) =>
    Number((await f.t.pool.query('INSERT INTO jobs (type, payload) VALUES ($1, $2) RETURNING id', [type, JSON.stringify(payload)])).rows[0].id);
  const row = async (id: number): Promise<Job> => (await f.t.db.select().from(jobs).where(eq(jobs.id, id)))[0]!;
  const queued = (id: number) => waitFor(`job ${id} to be claimed`, async () => {
    const j = await row(id);
    return j.status === 'INQUEUE' ? j : undefined;
  }, 60_000, 20);

  let accountsDir: string;

  before(async () => {
    f = await startDbAndTemporal();
    // The claim takes a job only when an account of its pool can take it now: one logged-in
    // account (a saved session; the master reads its name) in each pool used here, room for all.
    // A GROK_BASE_URL of Grok's own (no simulator) is what makes ACCOUNTS_DIR the sessions' folder.
    accountsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-pause-accounts-'));
    for (const [name, pool] of [['acct-default', 'default'], ['acct-p1', 'p1']] as const) {
      fs.writeFileSync(path.join(accountsDir, `${name}.json`), '{}', { mode: 0o600 });
      await f.t.pool.query('INSERT INTO accounts (name, pool, concurrency, min_gap_ms) VALUES ($1, $2, 20, 0)', [name, pool]);
    }
    env = { DATABASE_URL: f.t.url, TEMPORAL_ADDRESS: f.env.address, ACCOUNTS_DIR: accountsDir, GROK_BASE_URL: 'http://127.0.0.1:9', SCHEDULER_CRON: '0 0 1 1 *', NOTIFY_DEBOUNCE_MS: '10', LOG_LEVEL: 'warn', LOG_PRETTY: 'false', METRICS_PORT: '0' };
    config = loadConfig(env);
    let ready!: () => void;
    const up = new Promise<void>((r) => (ready = r));
    master = runMaster(config, { signal: stop.signal, logger, client: f.env.client, connection: f.env.nativeConnection, onReady: () => ready() });
    await Promise.race([up, master]);
  });
  after(async () => {
    stop.abort();
    await master?.catch(() => undefined);
    await f?.stop();
    if (accountsDir) fs.rmSync(accountsDir, { recursive: true, force: true });
  });

  test('a paused pool\'s job stays PENDING while a later job of another pool is claimed; resume claims it without the cron', async () => {
    const paused = await cli('pause', '--pool', 'p1', '--reason', 'account being fixed');
    assert.equal(paused.code, 0, show(paused));
    const held = await insert(VIDEO, { prompt: 'held back', pool: 'p1' });
    const other = await insert(VIDEO, { prompt: 'goes ahead' });
    // The claim that took `other` ran after `held` was inserted, and p1's account had room:
    // only the pause kept `held` out of it.
    await queued(other);
    assert.equal((await row(held)).status, 'PENDING');

    // Resumed by the verb the CLI calls (the CLI's own start-up would hide the master's share);
    // the type test below resumes through the CLI.
    const { rows: [{ at }] } = await f.t.pool.query(`DELETE FROM job_pauses WHERE scope = 'pool' AND name = 'p1' RETURNING clock_timestamp() AS at`);
    const job = await queued(held);
    // The figure, not a target (under this machine's load): the DELETE to the claim's UPDATE.
    logger.warn({ resumeToClaimMs: job.queuedAt!.getTime() - (at as Date).getTime() }, 'pause test: resume to claim');
  });

  test('a paused type: the claim takes none of it, its Schedule shows paused with the note, a gauge says so; resume claims it', async () => {
    const paused = await cli('pause', '--type', 'image', '--reason', 'quota');
    assert.equal(paused.code, 0, show(paused));
    assert.match(paused.stdout, /type GROK_IMAGE_GENERATION paused.*its Temporal Schedule paused/);
    const description = await f.env.client.schedule.getHandle(scheduleId(IMAGE)).describe();
    assert.equal(description.state.paused, true);
    assert.match(description.state.note ?? '', /paused by grokflow: type paused by cli:.* quota \(grokflow resume --type GROK_IMAGE_GENERATION\)/);

    const held = await insert(IMAGE, { prompt: 'an icon' });
    const claim = createClaim({ db: f.t.db, client: f.env.client, logger, reconcileGraceMs: 2000, config });
    assert.deepEqual((await claim({ jobType: IMAGE, limit: 10 })).jobs, []);
    assert.equal((await row(held)).status, 'PENDING');

    registerPauseGauge(f.t.db);
    const gauge = await registry.getSingleMetric('grokflow_paused')!.get();
    assert.deepEqual(gauge.values.map((v) => [v.labels, v.value]), [[{ scope: 'type', name: IMAGE }, 1]]);

    const resumed = await cli('resume', '--type', 'image');
    assert.match(resumed.stdout, /type GROK_IMAGE_GENERATION resumed; its Temporal Schedule unpaused/);
    await queued(held);
    const after = await f.env.client.schedule.getHandle(scheduleId(IMAGE)).describe();
    assert.equal(after.state.paused, false);
    assert.doesNotMatch(after.state.note ?? '', /paused by grokflow/);
  });
});
