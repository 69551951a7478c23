import { masterAccountsEnv } from './helpers/masterAccounts';
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { freeLoopbackPort } from '../src/shared/freePort';
import { dispatcherWorkflowId } from '../src/master/directClaim';
import { jobWorkflowId } from '../src/shared/registry';
import { dbAndTemporalForSuite } from './helpers/dbAndTemporal';
import { startProgram, tsxProgram } from './helpers/program';
import { pollUntil } from './helpers/wait';

// `npm run master` as a split deployment runs it: its own process against a Temporal server
// and Postgres, with its metrics endpoint; no slave, so a claimed job stays INQUEUE.

describe('master process (`npm run master`)', () => {
  const fx = dbAndTemporalForSuite();

  // Room to claim for a master with no slave (the capacity claim).
  const accounts = masterAccountsEnv();
  after(() => accounts.cleanup());

  function startMaster(extra: Record<string, string>) {
    const [command, args] = tsxProgram('src/master/main.ts');
    const master = startProgram('the master', command, args, {
      env: { PATH: process.env.PATH, DATABASE_URL: fx.t.url, TEMPORAL_ADDRESS: fx.env.address, LOG_LEVEL: 'info', LOG_PRETTY: 'false', ...accounts.env, ...extra },
    });
    return { child: master.child, exited: master.exited.then((e) => e.code), output: () => master.output, waitForOutput: master.waitForOutput };
  }

  /** The job's status once it is `want` (or the last one read, when it never gets there). */
  async function statusOnceIs(id: number, want: string, timeoutMs: number, everyMs: number, running?: { child: { exitCode: number | null }; output(): string }) {
    let status = '';
    await pollUntil(async () => {
      if (running) assert.equal(running.child.exitCode, null, `the master exited early:\n${running.output()}`);
      status = (await fx.t.pool.query('SELECT status FROM jobs WHERE id = $1', [id])).rows[0].status as string;
      return status === want;
    }, timeoutMs, everyMs);
    return status;
  }

  test('claims a row inserted with SQL, serves the jobs gauge, logs as JSON with its identity, exits 0 on SIGTERM', async () => {
    const metricsPort = await freeLoopbackPort();
    const { child, output, exited, waitForOutput } = startMaster({ METRICS_PORT: String(metricsPort), NOTIFY_DEBOUNCE_MS: '10' });
    try {
      // Generous: a loaded machine can take a minute just to compile and load the program.
      await waitForOutput('"master ready"', 180_000);

      const { rows } = await fx.t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "a heron at dawn"}') RETURNING id`);
      const id = Number(rows[0].id);
      const status = await statusOnceIs(id, 'INQUEUE', 20_000, 50);
      assert.equal(status, 'INQUEUE');
      // INQUEUE is written by the claim; the child starts right after it.
      const handle = fx.env.client.workflow.getHandle(jobWorkflowId('GROK_VIDEO_GENERATION', id));
      const slave = await pollUntil(() => handle.describe().catch(() => undefined), 20_000, 100);
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
    const { rows } = await fx.t.pool.query(`INSERT INTO jobs (type, payload) VALUES ('GROK_VIDEO_GENERATION', '{"prompt": "waiting since before"}') RETURNING id`);
    const id = Number(rows[0].id);
    // The cron fires once a year: only the start-up claim can explain a claim.
    const master = startMaster({ METRICS_PORT: '0', SCHEDULER_CRON: '0 0 1 1 *' });
    const { child, output, exited } = master;
    try {
      const status = await statusOnceIs(id, 'INQUEUE', 60_000, 100, master);
      assert.equal(status, 'INQUEUE', output());
      const event = await fx.t.pool.query(`SELECT detail FROM job_events WHERE job_id = $1 AND to_status = 'INQUEUE'`, [id]);
      assert.equal(event.rows[0].detail.scheduler, dispatcherWorkflowId('GROK_VIDEO_GENERATION'), 'claimed by the listener for the dispatcher, not a cron tick');
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, output());
  });
});
