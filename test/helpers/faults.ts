import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { inArray } from 'drizzle-orm';
import { startDevTemporal, type DevTemporal } from '../../src/service/devTemporal';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { loadConfig } from '../../src/shared/config';
import { createDb, createPool, type Db } from '../../src/shared/db/client';
import { ensureDatabase, migrateDatabase } from '../../src/shared/db/migrate';
import { jobEvents, jobItems, jobs } from '../../src/shared/db/schema';
import { createLogger } from '../../src/shared/logger';
import { freeLoopbackPort } from '../../src/shared/freePort';
import { descendants, survivors } from './processes';
import { startProgram, tsxProgram } from './program';
import { pollUntil } from './wait';
import { startOwnPostgres, type OwnPostgres } from './ownPostgres';

// The fault matrix of test/faults.test.ts and `npm run bench -- faults`: a PostgreSQL, a
// Temporal dev server, a master and a slave process of its own, jobs in flight on the
// simulator, and one fault at a time. After each fault every job of its batch must end
// COMPLETED or ERROR, none started twice, no video downloaded twice, one forward path each.

export interface FaultRow {
  fault: string;
  jobs: number;
  completed: number;
  errors: number;
  /** Jobs claimed/started twice, off their forward path, or with a video downloaded twice. */
  duplicates: number;
  /** From the fault until a job of the batch moved again. */
  recoverySeconds: number;
  /** From the fault until every job of the batch ended. */
  doneSeconds: number;
  problems: string[];
}

/** How long a batch may take to end after its fault: heartbeat timeouts and a cron tick included. */
const END_BOUND_MS = 240_000;
const FORWARD = ['PENDING', 'INQUEUE', 'PROGRESS'];
/** The simulator's users, each a saved session of the default pool. */
const POOL_ACCOUNTS = ['default', 'spare'];

interface Proc {
  child: ChildProcess;
  ready: Promise<void>;
  output(): string;
  exited: Promise<unknown>;
}

export interface FaultMatrixOptions {
  /** Jobs of the master-kill dispatch (default 200). */
  dispatchJobs?: number;
  /** Jobs in flight for each other fault (default 50). */
  jobs?: number;
  log?: (line: string) => void;
}

export async function runFaultMatrix(options: FaultMatrixOptions = {}): Promise<{ rows: FaultRow[]; leftRunning: number[] }> {
  const { dispatchJobs = 200, jobs: inFlight = 50, log = () => undefined } = options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-faults-'));
  const procs: Proc[] = [];
  let pg: OwnPostgres | undefined;
  let temporal: DevTemporal | undefined;
  let simulator: Simulator | undefined;
  let pool: ReturnType<typeof createPool> | undefined;
  const everyPid = new Set<number>();
  const rows: FaultRow[] = [];
  try {
    pg = await startOwnPostgres();
    const databaseUrl = `${pg.serverUrl}/grokflow_faults`;
    await ensureDatabase(databaseUrl);
    await migrateDatabase(databaseUrl);
    pool = createPool(databaseUrl);
    const db = createDb(pool);

    simulator = await startSimulator({ generationMs: 400, cooldownMs: 2000 });
    const accountsDir = path.join(dir, 'accounts');
    fs.mkdirSync(accountsDir, { recursive: true });
    // Two accounts of the default pool: the master claims a job only when an account can take
    // it, so the dispatch fault below gives them room for its whole batch (see there).
    for (const name of POOL_ACCOUNTS) {
      simulator.addUser(name, 'pw');
      fs.writeFileSync(path.join(accountsDir, `${name}.json`), JSON.stringify(simulator.storageState(name)), { mode: 0o600 });
    }

    const [temporalPort, uiPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      TEMPORAL_DEV_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      GROKFLOW_DATA_DIR: path.join(dir, 'data'),
      GROK_BASE_URL: simulator.url,
      ACCOUNTS_DIR: accountsDir,
      DOWNLOADS_DIR: path.join(dir, 'downloads'),
      ARTIFACTS_DIR: path.join(dir, 'artifacts'),
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
      NOTIFY_DEBOUNCE_MS: '20',
      PROGRESS_THROTTLE_MS: '500',
      SHUTDOWN_GRACE_MS: '2000',
      SLAVE_CONCURRENT_ACTIVITIES: '8',
      ACCOUNT_MIN_GAP_MS: '0',
      ACCOUNT_CONCURRENCY: '8',
    };
    const config = loadConfig(env);
    const quiet = createLogger({ LOG_LEVEL: 'warn', LOG_PRETTY: false });
    // The service's own embedded server: state per database, restarted on the same file.
    temporal = await startDevTemporal(config, quiet);
    for (const pid of pidsOf(temporal)) everyPid.add(pid);

    const start = (program: 'master' | 'slave'): Proc => {
      const [command, args] = tsxProgram(`src/${program}/main.ts`);
      const running = startProgram(program, command, args, { env });
      // No limit of its own: the fault matrix's bounds and the test's timeout are the limits.
      const ready = running.waitForOutput(`"${program} ready"`, 1_800_000);
      ready.catch(() => undefined);
      const proc = { child: running.child, ready, output: () => running.output, exited: running.exited };
      procs.push(proc);
      return proc;
    };
    const killHard = async (p: Proc) => {
      for (const pid of descendants(p.child.pid!)) everyPid.add(pid);
      p.child.kill('SIGKILL');
      await p.exited;
    };
    let master = start('master');
    let slave = start('slave');
    await Promise.all([master.ready, slave.ready]);
    everyPid.add(master.child.pid!).add(slave.child.pid!);

    let batch = 0;
    const insert = async (n: number): Promise<number[]> => {
      batch++;
      const posts = Array.from({ length: n }, () => simulator!.createPost('default').url);
      const { rows: inserted } = await pool!.query(
        `INSERT INTO jobs (type, payload) SELECT 'GROK_VIDEO_GENERATION', jsonb_build_object('imageUrl', u, 'prompt', 'fault batch ' || $1 || ' job ' || i)
         FROM unnest($2::text[]) WITH ORDINALITY AS t(u, i) RETURNING id`,
        [batch, posts],
      );
      return inserted.map((r: { id: string }) => Number(r.id));
    };
    const count = async (ids: number[], statuses: string[]) =>
      Number((await pool!.query('SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = ANY($2::job_status[])', [ids, statuses])).rows[0].count);
    const statuses = async (ids: number[]) =>
      JSON.stringify((await pool!.query('SELECT status, count(*)::int AS n FROM jobs WHERE id = ANY($1) GROUP BY status', [ids])).rows);
    const until = async (what: string, ok: () => Promise<boolean>, ms = 120_000, ids: number[] = []) => {
      // A failing check (the database restarting) counts as "not yet".
      if (await pollUntil(() => ok().catch(() => false), ms, 100)) return;
      throw new Error(`fault matrix: ${what} after ${ms / 1000} s: ${await statuses(ids)}\nmaster:\n${master.output().slice(-3000)}\nslave:\n${slave.output().slice(-3000)}`);
    };

    const scenario = async (fault: string, n: number, inject: (ids: number[]) => Promise<number>) => {
      const ids = await insert(n);
      const faultAt = await inject(ids);
      await until(`${fault}: every job final`, async () => (await count(ids, ['COMPLETED', 'ERROR'])) === n, END_BOUND_MS, ids);
      const row = await judge(db, simulator!, fault, ids, faultAt);
      rows.push(row);
      log(`${fault}: ${row.completed}/${row.jobs} completed, ${row.errors} errors, ${row.duplicates} duplicates, recovered ${row.recoverySeconds} s`);
    };

    // The dispatch is what this fault hits, so no slave runs: a browser per video would make
    // this batch minutes long. Once every job's workflow has started (exactly once: checked
    // by the forward-path rule and the workflows' runs), they are cancelled, and a slave
    // records each job's end (ERROR "cancelled") without opening a browser.
    slave.child.kill('SIGTERM');
    await slave.exited;
    // Capacity for every job of the batch at once (ACCOUNT_CONCURRENCY's 8 would hold all but
    // 16 PENDING, and with no slave nothing frees): the fault must meet a dispatch in progress.
    const setConcurrency = (n: number | null) => pool!.query(
      `INSERT INTO accounts (name, concurrency) SELECT unnest($1::text[]), $2
       ON CONFLICT (name) DO UPDATE SET concurrency = EXCLUDED.concurrency`,
      [POOL_ACCOUNTS, n],
    );
    await setConcurrency(Math.min(100, Math.ceil(dispatchJobs / POOL_ACCOUNTS.length)));
    await scenario(`kill -9 master mid-dispatch (${dispatchJobs} jobs)`, dispatchJobs, async (ids) => {
      await until('part of the dispatch claimed', async () => (await count(ids, ['INQUEUE'])) >= Math.ceil(dispatchJobs / 10));
      const at = Date.now();
      await killHard(master);
      master = start('master');
      await master.ready;
      everyPid.add(master.child.pid!);
      const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
      try {
        const client = new Client({ connection });
        const workflowIds = async () => (await pool!.query('SELECT workflow_id FROM jobs WHERE id = ANY($1) AND workflow_id IS NOT NULL', [ids])).rows.map((r: { workflow_id: string }) => r.workflow_id);
        // The new master's start-up claim takes the PENDING rest; the reconciler (cron tick,
        // then its grace) redispatches claims whose workflow the killed master never started.
        await until('every workflow of the dispatch started', async () => {
          const wids = await workflowIds();
          if (wids.length < ids.length) return false;
          const described = await Promise.all(wids.map((w) => client.workflow.getHandle(w).describe().then(() => true, () => false)));
          return described.every(Boolean);
        }, END_BOUND_MS, ids);
        // Started twice would show as two runs of one workflow id.
        const runs = new Map<string, number>();
        for await (const run of client.workflow.list({ query: `WorkflowType = 'grokVideoGenerationWorkflow'` })) runs.set(run.workflowId, (runs.get(run.workflowId) ?? 0) + 1);
        const twice = [...runs].filter(([, n]) => n > 1);
        if (twice.length > 0) throw new Error(`workflows started twice: ${twice.map(([w]) => w).join(', ')}`);
        await Promise.all((await workflowIds()).map((w) => client.workflow.getHandle(w).cancel()));
      } finally {
        await connection.close();
      }
      slave = start('slave');
      await slave.ready;
      everyPid.add(slave.child.pid!);
      return at;
    });
    // Back to ACCOUNT_CONCURRENCY for the faults that generate.
    await setConcurrency(null);
    await scenario('restart PostgreSQL while items generate', inFlight, async (ids) => {
      await until('items generating', async () => (await count(ids, ['PROGRESS'])) >= Math.min(5, ids.length));
      const at = Date.now();
      await pg!.restart();
      return at;
    });
    await scenario('restart PostgreSQL while the master claims', inFlight, async () => {
      // Right after the INSERT: the listener's wake and the claim meet a server going down.
      const at = Date.now();
      await pg!.restart();
      return at;
    });
    await scenario('restart the Temporal dev server while items generate', inFlight, async (ids) => {
      await until('items generating', async () => (await count(ids, ['PROGRESS'])) >= Math.min(5, ids.length));
      const at = Date.now();
      await temporal!.stop();
      temporal = await startDevTemporal(config, quiet);
      for (const pid of pidsOf(temporal)) everyPid.add(pid);
      return at;
    });
    await scenario('kill -9 a slave mid-generation', inFlight, async (ids) => {
      await until('items generating', async () => (await count(ids, ['PROGRESS'])) >= Math.min(5, ids.length));
      const at = Date.now();
      await killHard(slave);
      slave = start('slave');
      await slave.ready;
      everyPid.add(slave.child.pid!);
      return at;
    });

    // A clean stop of everything, then nothing of it may be left.
    for (const p of procs) {
      for (const pid of descendants(p.child.pid!)) everyPid.add(pid);
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await p.exited;
    }
    await temporal.stop();
    temporal = undefined;
    return { rows, leftRunning: await survivors([...everyPid], 20_000) };
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await temporal?.stop().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pidsOf(temporal: DevTemporal): number[] {
  try {
    return [(JSON.parse(fs.readFileSync(`${temporal.stateFile}.owner.json`, 'utf8')) as { pid: number }).pid];
  } catch {
    return [];
  }
}

async function judge(db: Db, simulator: Simulator, fault: string, ids: number[], faultAt: number): Promise<FaultRow> {
  const done = Date.now();
  const rows = await db.select({ id: jobs.id, status: jobs.status }).from(jobs).where(inArray(jobs.id, ids));
  const events = await db.select().from(jobEvents).where(inArray(jobEvents.jobId, ids)).orderBy(jobEvents.id);
  const items = await db.select().from(jobItems).where(inArray(jobItems.jobId, ids));
  const problems: string[] = [];
  const bad = new Set<number>();
  for (const id of ids) {
    const path = events.filter((e) => e.jobId === id).map((e) => e.toStatus);
    const forward = path.slice(0, -1);
    const last = path.at(-1);
    // One forward path: PENDING, INQUEUE, PROGRESS at most once each and in order, one final status.
    const ok = (last === 'COMPLETED' || last === 'ERROR') && forward.every((s, i) => s === FORWARD[i]) && forward[0] === 'PENDING';
    if (!ok) {
      bad.add(id);
      problems.push(`job ${id}: ${path.join(' → ')}`);
    }
  }
  for (const item of items) {
    const videoId = item.mediaUrl?.split('/').at(-2);
    const downloads = videoId ? (simulator.video(videoId)?.downloads ?? 0) : 0;
    if (downloads > 1) {
      bad.add(item.jobId);
      problems.push(`job ${item.jobId} item ${item.index}: video ${videoId} downloaded ${downloads} times`);
    }
  }
  // Recovered: the first move of a job of the batch after the fault.
  const recoveredAt = events.map((e) => e.at.getTime()).filter((t) => t > faultAt).sort((a, b) => a - b)[0] ?? done;
  return {
    fault,
    jobs: ids.length,
    completed: rows.filter((r) => r.status === 'COMPLETED').length,
    errors: rows.filter((r) => r.status === 'ERROR').length,
    duplicates: bad.size,
    recoverySeconds: Math.round((recoveredAt - faultAt) / 100) / 10,
    doneSeconds: Math.round((done - faultAt) / 100) / 10,
    problems,
  };
}
