import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freeLoopbackPort } from '../src/shared/freePort';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { descendants, survivors } from './helpers/processes';

// `npm start` end to end, as a user runs it: the set-up, an embedded Temporal dev server,
// the simulator, master and slave; a row inserted with SQL; Ctrl-C; nothing left running.

describe('npm start', () => {
  let t: TestDatabase;
  let dir: string;
  before(async () => {
    t = await createTestDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-start-'));
  });
  after(async () => {
    await t?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('starts everything, completes a job inserted with SQL, and stops cleanly on Ctrl-C', async () => {
    const [temporalPort, uiPort, simPort, metricsPort, webPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: t.url,
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_GENERATION_MS: '500',
      METRICS_PORT: String(metricsPort),
      WEB_PORT: String(webPort),
      GROKFLOW_DATA_DIR: path.join(dir, 'data'),
      DOWNLOADS_DIR: path.join(dir, 'downloads'),
      ARTIFACTS_DIR: path.join(dir, 'artifacts'),
      LOG_PRETTY: 'false',
    };
    // Its own process group, so "Ctrl-C" can go to the whole group as a terminal sends it.
    const child = spawn('npm', ['start', '--silent'], { cwd: path.join(__dirname, '..'), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    try {
      const deadline = Date.now() + 180_000;
      while (!out.includes('grokflow is running')) {
        assert.ok(child.exitCode === null, `npm start exited early:\n${out}`);
        assert.ok(Date.now() < deadline, `no banner after 180 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.match(out, new RegExp(`Web UI http://127\\.0\\.0\\.1:${uiPort}`));
      assert.match(out, /SIMULATOR/);
      assert.match(out, new RegExp(`Web console\\s+http://127\\.0\\.0\\.1:${webPort}`));
      assert.match(out, /INSERT INTO jobs/);
      // The schedulers' next three runs, as Temporal reads the default cron: on the minute.
      assert.match(out, /Scheduler {5}"\* \* \* \* \*", next runs (\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z(, )?){3}\n/);

      const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a red fox running through snow"}') RETURNING id`);
      const id = Number(rows[0].id);
      let job: { status: string; error_message: string | null } | undefined;
      const jobDeadline = Date.now() + 120_000;
      for (;;) {
        job = (await t.pool.query('SELECT status, error_message FROM jobs WHERE id = $1', [id])).rows[0];
        if (job?.status === 'COMPLETED' || job?.status === 'ERROR') break;
        assert.ok(Date.now() < jobDeadline, `job ${id} still ${job?.status}:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(job.status, 'COMPLETED', `${job.error_message}\n${out}`);
      const { rows: items } = await t.pool.query('SELECT file_path FROM job_items WHERE job_id = $1', [id]);
      assert.ok(fs.existsSync(items[0].file_path), 'the video was downloaded');

      // The Web UI, the web console and the metrics endpoint answer.
      assert.equal((await fetch(`http://127.0.0.1:${uiPort}/`)).status, 200);
      const consolePage = await fetch(`http://127.0.0.1:${webPort}/jobs/${id}`);
      assert.equal(consolePage.status, 200);
      assert.match(await consolePage.text(), /a red fox running through snow/);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(metrics, /grokflow_items_total\{type="GROK_VIDEO_GENERATION",outcome="completed"\} 1/);
      assert.match(metrics, /grokflow_jobs\{type="GROK_VIDEO_GENERATION",status="COMPLETED"\} 1/);
      assert.match(metrics, /temporal_/, 'the SDK runtime metrics are included');

      // Temporal's server and Chromium run in process groups of their own; a snapshot of the
      // whole tree before Ctrl-C finds them all.
      const tree = descendants(child.pid!);
      assert.ok(tree.length >= 4, `npm, node, temporal, chromium…: ${tree.length}`);
      process.kill(-child.pid!, 'SIGINT');
      // npm itself ends by the SIGINT it was sent, as in a terminal; grokflow under it exits 0.
      const end = await exited;
      assert.ok(end.code === 0 || end.signal === 'SIGINT', `npm start ended ${JSON.stringify(end)}:\n${out}`);
      assert.match(out, /"msg":"grokflow stopped"/);
      assert.doesNotMatch(out, /second signal/);
      assert.deepEqual(await survivors(tree), [], 'no process of npm start is left');
      for (const port of [temporalPort, uiPort, simPort, metricsPort, webPort]) {
        const free = await new Promise<boolean>((resolve) => {
          const s = net.createServer().once('error', () => resolve(false)).listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
        });
        assert.ok(free, `port ${port} was released`);
      }
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  });
});
