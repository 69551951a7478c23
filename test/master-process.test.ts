import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { freeLoopbackPort } from '../src/shared/freePort';
import { wakeWorkflowId } from '../src/master/wake';
import { jobWorkflowId } from '../src/shared/registry';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { startTemporal } from './helpers/temporal';

// `npm run master` as a split deployment runs it: its own process against a Temporal server
// and Postgres, with its metrics endpoint; no slave, so a claimed job stays INQUEUE.

describe('master process (`npm run master`)', () => {
  let t: TestDatabase;
  let env: TestWorkflowEnvironment;
  before(async () => {
    [t, env] = await Promise.all([createTestDatabase(), startTemporal()]);
  });
  after(async () => {
    await env?.teardown();
    await t?.drop();
  });

  function startMaster(extra: Record<string, string>) {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '..', 'src', 'master', 'main.ts')], {
      env: { PATH: process.env.PATH, DATABASE_URL: t.url, TEMPORAL_ADDRESS: env.address, LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, output: () => out };
  }

  test('claims a row inserted with SQL, serves the jobs gauge, logs as JSON with its identity, exits 0 on SIGTERM', async () => {
    const metricsPort = await freeLoopbackPort();
    const { child, output, exited } = startMaster({ METRICS_PORT: String(metricsPort), NOTIFY_DEBOUNCE_MS: '10' });
    try {
      // Generous: a loaded machine can take a minute just to compile and load the program.
      const deadline = Date.now() + 180_000;
      while (!output().includes('"master ready"')) {
        assert.equal(child.exitCode, null, `the master exited early:\n${output()}`);
        assert.ok(Date.now() < deadline, `not ready after 180 s:\n${output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }

      const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a heron at dawn"}') RETURNING id`);
      const id = Number(rows[0].id);
      let status = '';
      for (const until = Date.now() + 20_000; status !== 'INQUEUE' && Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        status = (await t.pool.query('SELECT status FROM jobs WHERE id = $1', [id])).rows[0].status as string;
      }
      assert.equal(status, 'INQUEUE');
      // INQUEUE is written by the claim; the child starts right after it.
      const handle = env.client.workflow.getHandle(jobWorkflowId('GROK_VIDEO_GENERATION', id));
      let slave = await handle.describe().catch(() => undefined);
      for (const until = Date.now() + 20_000; !slave && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        slave = await handle.describe().catch(() => undefined);
      }
      assert.equal(slave?.taskQueue, 'grok_video_generation', 'its slave workflow started on the slave queue');

      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /grokflow_jobs\{type="GROK_VIDEO_GENERATION",status="INQUEUE"\} 1/);

      const lines = output().split('\n').filter((l) => l.startsWith('{'));
      assert.ok(lines.length > 0, 'JSON log lines');
      for (const l of lines) assert.match((JSON.parse(l) as { worker?: string }).worker ?? '', /^master@.+:\d+$/, l);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output());
  });

  test('a job inserted while the master is down is claimed at start-up, by the listener\'s first wake, not by cron', async () => {
    const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "waiting since before"}') RETURNING id`);
    const id = Number(rows[0].id);
    // The cron fires once a year: only the start-up claim can explain a claim.
    const { child, output, exited } = startMaster({ METRICS_PORT: '0', SCHEDULER_CRON: '0 0 1 1 *' });
    try {
      let status = '';
      for (const until = Date.now() + 60_000; status !== 'INQUEUE' && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
        assert.equal(child.exitCode, null, `the master exited early:\n${output()}`);
        status = (await t.pool.query('SELECT status FROM jobs WHERE id = $1', [id])).rows[0].status as string;
      }
      assert.equal(status, 'INQUEUE', output());
      const event = await t.pool.query(`SELECT detail FROM job_events WHERE job_id = $1 AND to_status = 'INQUEUE'`, [id]);
      assert.equal(event.rows[0].detail.scheduler, wakeWorkflowId('GROK_VIDEO_GENERATION'), 'claimed by the wake run, not a cron tick');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output());
  });
});
