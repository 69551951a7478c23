import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { jobWorkflowId } from '../src/shared/registry';
import { dbAndTemporalForSuite } from './helpers/dbAndTemporal';
import { startProgram as startChild, tsxProgram, type RunningProgram } from './helpers/program';
import { startStack, type Stack } from './helpers/stack';

// With LOG_PRETTY=false every line a process writes is a JSON object: the Temporal core's
// own warnings included. A failed activity's line gives the database's message, never the
// query's parameter values.

interface Program {
  output(): string;
  until(text: string, ms: number): Promise<void>;
  stop(): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

function startProgram(program: 'master' | 'slave', env: Record<string, string>): Program {
  const [command, args] = tsxProgram(`src/${program}/main.ts`);
  const child: RunningProgram = startChild(program, command, args, {
    env: { PATH: process.env.PATH, ...env, METRICS_PORT: '0', LOG_LEVEL: 'info', LOG_PRETTY: 'false' },
  });
  return {
    output: () => child.output,
    kill: (signal) => child.child.kill(signal),
    until: (text, ms) => child.waitForOutput(text, ms),
    async stop() {
      if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
      await child.exited;
    },
  };
}

/** Every non-empty line, parsed; fails naming the first line that is not a JSON object. */
function jsonLines(out: string): Array<Record<string, unknown>> {
  return out.split('\n').filter((l) => l.trim() !== '').map((line) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      assert.fail(`not a JSON line: ${line}`);
    }
    assert.equal(typeof parsed, 'object', `not a JSON object: ${line}`);
    return parsed as Record<string, unknown>;
  });
}

describe('logs: the Temporal core\'s warnings, as JSON', () => {
  const fx = dbAndTemporalForSuite();

  test('the Temporal server goes away under a running master: core\'s retry warnings are JSON lines with the worker identity', async () => {
    // Node's own warnings too: one emitted once the master runs (on SIGUSR2, here) is a JSON line with its stack.
    const warnLater = `data:text/javascript,${encodeURIComponent("process.on('SIGUSR2', () => process.emitWarning('a warning from node'))")}`;
    const master = startProgram('master', { DATABASE_URL: fx.t.url, TEMPORAL_ADDRESS: fx.env.address, NODE_OPTIONS: `--import=${warnLater}` });
    try {
      await master.until('"master ready"', 60_000);
      master.kill('SIGUSR2');
      await master.until('a warning from node', 30_000);
      const warning = jsonLines(master.output()).find((l) => l.msg === 'node warning: Warning');
      assert.ok(warning, 'the warning is a JSON line');
      assert.equal((warning.err as { message?: string }).message, 'a warning from node');
      assert.match(String((warning.err as { stack?: string }).stack), /SIGUSR2/, 'with where it came from');
      await fx.stopTemporal();
      await master.until('"sdkComponent":"core"', 120_000);
      const lines = jsonLines(master.output());
      const core = lines.filter((l) => l.sdkComponent === 'core');
      assert.ok(core.length > 0);
      for (const l of core) {
        assert.match(String(l.worker), /^master@.+:\d+$/, 'the process\'s worker identity, as on every line');
        assert.equal(l.component, 'temporal-sdk');
        assert.ok(typeof l.msg === 'string' && l.msg.length > 0);
        assert.ok(Number(l.level) >= 40, 'warnings and errors only, at LOG_LEVEL info');
      }
    } finally {
      await master.stop();
    }
  });
});

describe('logs: a database error in an activity', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ slave: false });
  });
  after(async () => {
    await s?.stop();
  });

  test('the warning and the pending activity carry the database\'s message, not the parameter values', async () => {
    // Refused by the database for as long as the constraint stands; the prompt is a
    // parameter of the refused INSERT.
    await s.t.pool.query(`ALTER TABLE job_items ADD CONSTRAINT no_herons CHECK (prompt NOT LIKE '%heron%')`);
    const slave = startProgram('slave', s.configEnv);
    try {
      await slave.until('"slave ready"', 120_000);
      const prompt = 'a grey heron, private-marker-7f3a';
      const id = await s.insertJob({ imageUrl: s.simulator.createPost('default').url, prompt });
      await slave.until('"Activity failed"', 120_000);

      const failed = jsonLines(slave.output()).find((l) => l.msg === 'Activity failed')!;
      const err = failed.err as { message?: string; type?: string };
      assert.match(String(err.message), /violates check constraint "no_herons"/);
      assert.match(String(err.message), /query: insert into "job_items"/);
      assert.equal(failed.activityType, 'startJob');
      assert.match(String(failed.worker), /^slave@/);
      assert.ok(!slave.output().includes('private-marker-7f3a'), 'no parameter value in any log line');

      const described = await s.env.client.workflow.getHandle(jobWorkflowId('GROK_VIDEO_GENERATION', id)).describe();
      const pending = described.raw.pendingActivities?.[0];
      assert.match(String(pending?.lastFailure?.message), /violates check constraint "no_herons"/);
      assert.ok(!JSON.stringify(pending?.lastFailure ?? {}).includes('private-marker-7f3a'), 'nor in Temporal');

      // Temporal retries it; once the database takes the row, the job goes on.
      await s.t.pool.query('ALTER TABLE job_items DROP CONSTRAINT no_herons');
      const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
      assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');
      jsonLines(slave.output());
    } finally {
      await slave.stop();
    }
  });
});
