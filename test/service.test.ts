import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { databaseIdentity } from '../src/shared/db/instance';
import { freeLoopbackPort } from '../src/shared/freePort';
import { createTestDatabase, type TestDatabase } from './helpers/db';
import { alive, descendants, survivors } from './helpers/processes';
import { ROOT, startProgram, tsxProgram, type RunningProgram } from './helpers/program';
import { waitFor } from './helpers/wait';

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
      XAI_POLL_INTERVAL_MS: '200',
      METRICS_PORT: String(metricsPort),
      WEB_PORT: String(webPort),
      GROKFLOW_DATA_DIR: path.join(dir, 'data'),
      DOWNLOADS_DIR: path.join(dir, 'downloads'),
      ARTIFACTS_DIR: path.join(dir, 'artifacts'),
      LOG_PRETTY: 'false',
    };
    // Its own process group, so "Ctrl-C" can go to the whole group as a terminal sends it.
    const npmStart = startProgram('npm start', 'npm', ['start', '--silent'], { cwd: ROOT, env, detached: true });
    const { child, exited } = npmStart;
    try {
      await npmStart.waitForOutput('grokflow is running', 180_000);
      const out = npmStart.output;
      assert.match(out, new RegExp(`Web UI http://127\\.0\\.0\\.1:${uiPort}`));
      assert.match(out, /SIMULATOR/);
      assert.match(out, new RegExp(`Web console\\s+http://127\\.0\\.0\\.1:${webPort}`));
      assert.match(out, /INSERT INTO jobs/);
      // A normal start warns of nothing but the simulators standing in for Grok and xAI (the
      // banner names them too): not the SDK's notice about the activity-only workers.
      const warnings = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 40);
      assert.deepEqual(warnings.map((w) => w.msg).filter((m) => !/is unset: the .*SIMULATOR/.test(m)), [], out);
      assert.doesNotMatch(out, /No workflows registered/);
      // The schedulers' next three runs, as Temporal reads the default cron: on the minute.
      assert.match(out, /Scheduler {5}"\* \* \* \* \*", next runs (\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z(, )?){3}\n/);

      const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a red fox running through snow"}') RETURNING id`);
      const id = Number(rows[0].id);
      let job: { status: string; error_message: string | null } | undefined;
      await waitFor(() => `job ${id} to end, still ${job?.status}:\n${npmStart.output}`, async () => {
        job = (await t.pool.query('SELECT status, error_message FROM jobs WHERE id = $1', [id])).rows[0];
        return job?.status === 'COMPLETED' || job?.status === 'ERROR';
      }, 120_000, 200);
      assert.equal(job!.status, 'COMPLETED', `${job!.error_message}\n${npmStart.output}`);
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

      // Without XAI_API_KEY the api backend runs against the simulator's stand-in, announced.
      assert.match(out, new RegExp(`xAI API {7}http://127\\.0\\.0\\.1:${simPort}/v1 {3}← SIMULATOR's stand-in`));
      assert.match(out, /XAI_API_KEY is unset: the API backend calls the SIMULATOR's stand-in of xAI's API, not api\.x\.ai/);
      const { rows: apiRows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a fox through the API", "duration": "6s", "backend": "api"}') RETURNING id`);
      const apiId = Number(apiRows[0].id);
      let apiJob: { status: string; error_message: string | null; cost_ticks: string | null } | undefined;
      for (const apiDeadline = Date.now() + 120_000; ;) {
        apiJob = (await t.pool.query('SELECT status, error_message, cost_ticks FROM jobs WHERE id = $1', [apiId])).rows[0];
        if (apiJob?.status === 'COMPLETED' || apiJob?.status === 'ERROR') break;
        assert.ok(Date.now() < apiDeadline, `api job ${apiId} still ${apiJob?.status}:\n${out}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.equal(apiJob.status, 'COMPLETED', `${apiJob.error_message}\n${out}`);
      assert.equal(apiJob.cost_ticks, '3000000000', '6 s at $0.05');

      // Temporal's server and Chromium run in process groups of their own; a snapshot of the
      // whole tree before Ctrl-C finds them all.
      const tree = descendants(child.pid!);
      assert.ok(tree.length >= 4, `npm, node, temporal, chromium…: ${tree.length}`);
      process.kill(-child.pid!, 'SIGINT');
      // npm itself ends by the SIGINT it was sent, as in a terminal; grokflow under it exits 0.
      const end = await exited;
      assert.ok(end.code === 0 || end.signal === 'SIGINT', `npm start ended ${JSON.stringify(end)}:\n${npmStart.output}`);
      assert.match(npmStart.output, /"msg":"grokflow stopped"/);
      assert.doesNotMatch(npmStart.output, /second signal/);
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

  test('SIGKILL leaves a dev server the next start stops, never adopts; another database\'s or a live grokflow\'s server is refused; SIGTERM with a job in flight exits', async () => {
    const [temporalPort, uiPort, simPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort()]);
    const other = await createTestDatabase();
    const started: Service[] = [];
    let orphan: number | undefined;
    const start = (databaseUrl: string) => {
      // The program itself (what `npm start` runs), so its pid is grokflow's own.
      const svc = startService({
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        DATABASE_URL: databaseUrl,
        TEMPORAL_DEV_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        SIMULATOR_PORT: String(simPort),
        SIMULATOR_GENERATION_MS: '60000',
        SHUTDOWN_GRACE_MS: '2000',
        METRICS_PORT: '0',
        GROKFLOW_DATA_DIR: path.join(dir, 'data2'),
        DOWNLOADS_DIR: path.join(dir, 'downloads2'),
        ARTIFACTS_DIR: path.join(dir, 'artifacts2'),
        LOG_PRETTY: 'false',
      });
      started.push(svc);
      return svc;
    };
    try {
      const first = start(t.url);
      await first.until('grokflow is running');
      const stateFile = path.join(dir, 'data2', `temporal-${await databaseIdentity(t.db)}.db`);
      const owner = JSON.parse(fs.readFileSync(`${stateFile}.owner.json`, 'utf8')) as { pid: number; parent: number };
      orphan = owner.pid;
      assert.equal(owner.parent, first.child.pid, 'the owner file names the grokflow that started the server');
      const firstTree = descendants(first.child.pid!);
      first.child.kill('SIGKILL');
      await first.exited;
      assert.ok(alive(owner.pid), 'SIGKILL left the dev server running (nothing could stop it)');

      // Another database, same port: the orphan serves other state, so it is refused, loudly.
      const foreign = start(other.url);
      const foreignEnd = await foreign.exited;
      assert.equal(foreignEnd.code, 1, foreign.out());
      assert.match(foreign.out(), new RegExp(`a Temporal server already answers on 127\\.0\\.0\\.1:${temporalPort} and it is not this database's dev server`));
      assert.ok(alive(owner.pid), 'a refusal kills nothing');

      // The same database again: its own orphan is stopped and a fresh server started.
      const second = start(t.url);
      await second.until('grokflow is running');
      assert.match(second.out(), /stopping the Temporal dev server a killed grokflow left behind/);
      assert.deepEqual(await survivors([owner.pid]), [], 'the orphan is gone');
      assert.deepEqual(await survivors(firstTree.filter((p) => p !== owner.pid)), [], 'nothing else of the killed grokflow runs');

      // A second start on the same database while it runs: refused, the first one untouched.
      const third = start(t.url);
      const thirdEnd = await third.exited;
      assert.equal(thirdEnd.code, 1, third.out());
      assert.match(third.out(), new RegExp(`another grokflow \\(pid ${second.child.pid}\\) runs this database's Temporal dev server`));

      // SIGTERM with a job generating (60 s generations): out within the grace, nothing left.
      const { rows } = await t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a slow one"}') RETURNING id`);
      const id = Number(rows[0].id);
      // No limit of its own before: the test's timeout was the limit.
      await waitFor(() => `job ${id} PROGRESS:\n${second.out()}`, async () => {
        const status = (await t.pool.query('SELECT status FROM jobs WHERE id = $1', [id])).rows[0].status as string;
        assert.equal(second.child.exitCode, null, second.out());
        return status === 'PROGRESS';
      }, 1_800_000, 200);
      await new Promise((r) => setTimeout(r, 1000)); // the browser is generating
      const tree = descendants(second.child.pid!);
      const sent = Date.now();
      second.child.kill('SIGTERM');
      const end = await second.exited;
      const seconds = (Date.now() - sent) / 1000;
      console.log(`# SIGTERM with a job in flight: exited ${JSON.stringify(end)} after ${seconds.toFixed(1)} s (SHUTDOWN_GRACE_MS 2000)`);
      assert.equal(end.code, 0, second.out());
      assert.deepEqual(await survivors(tree), [], 'no Temporal server or Chromium left');
    } finally {
      for (const svc of started) svc.kill();
      if (orphan !== undefined && alive(orphan)) process.kill(orphan, 'SIGKILL');
      await other.drop();
    }
  });
});

interface Service {
  child: RunningProgram['child'];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  out(): string;
  until(text: string): Promise<void>;
  kill(): void;
}

function startService(env: NodeJS.ProcessEnv): Service {
  const [command, args] = tsxProgram('src/main.ts');
  const service = startProgram('grokflow', command, args, { env });
  const { child, exited } = service;
  return {
    child,
    exited,
    out: () => service.output,
    until: (text) => service.waitForOutput(text, 180_000),
    kill() {
      for (const pid of [child.pid!, ...descendants(child.pid!)]) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  };
}
