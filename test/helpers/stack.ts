import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { eq } from 'drizzle-orm';
import { runMaster } from '../../src/master/worker';
import { schedulerInput } from '../../src/master/schedules';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server';
import { loadConfig, type Config } from '../../src/shared/config';
import { jobItems, jobs, type Job, type JobItem, type JobStatus } from '../../src/shared/db/schema';
import { createLogger, type Logger } from '../../src/shared/logger';
import type { ActivityTimeouts, JobTypeName } from '../../src/shared/registry';
import { closeBackends, createBackends, type Backends } from '../../src/backends';
import type { GrokDriver } from '../../src/backends/browser/driver';
import { runSlave } from '../../src/slave/worker';
import type { TestDatabase } from './db';
import { startDbAndTemporal } from './dbAndTemporal';
import { waitFor } from './wait';

export interface StackOptions {
  simulator?: SimulatorOptions;
  env?: Record<string, string>;
  /** Short timeouts so crash tests finish in seconds; the registry's are days. */
  activityTimeouts?: Partial<ActivityTimeouts>;
  /** false: no slave in this process (a test runs its own, e.g. in a child process). */
  slave?: boolean;
  /** The job types the master claims (default: every type); a job of another type stays PENDING. */
  masterTypes?: readonly JobTypeName[];
  /** A password put in DATABASE_URL (loopback Postgres trusts: any password connects). */
  databasePassword?: string;
  /** The master's and slave's logger (default: JSON to stdout). */
  logger?: (config: Config) => Logger;
  /**
   * Grok elsewhere than this process's simulator (a bench's in a thread of its own, as Grok's
   * servers are not on the slave's machine): its URL and each account's logged-in state.
   */
  grok?: { url: string; storageState(user: string): Promise<unknown> };
}

export interface Stack {
  t: TestDatabase;
  env: TestWorkflowEnvironment;
  simulator: Simulator;
  config: Config;
  generator?: GrokDriver;
  dir: string;
  configEnv: Record<string, string>;
  insertJob(payload: Record<string, unknown>, type?: string): Promise<number>;
  waitForJob(id: number, statuses: JobStatus[], timeoutMs?: number): Promise<Job>;
  /** Until the job is PROGRESS past 15 %: its video is being generated, a browser page open. */
  untilGenerating(id: number, timeoutMs?: number): Promise<void>;
  items(id: number): Promise<JobItem[]>;
  stop(): Promise<void>;
}

/** Postgres, Temporal dev server, simulator, master and slave: the whole service, real parts only. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-test-'));
  const fixture = await startDbAndTemporal();
  const { t, env } = fixture;
  const simulator = await startSimulator({ generationMs: 600, cooldownMs: 2000, ...options.simulator });
  const accountsDir = path.join(dir, 'accounts');
  fs.mkdirSync(accountsDir, { recursive: true });
  for (const user of ['default', 'alice', 'bob']) {
    simulator.addUser(user, 'pw');
    const state = options.grok ? await options.grok.storageState(user) : simulator.storageState(user);
    fs.writeFileSync(path.join(accountsDir, `${user}.json`), JSON.stringify(state), { mode: 0o600 });
  }
  const databaseUrl = new URL(t.url);
  if (options.databasePassword) databaseUrl.password = options.databasePassword;
  const configEnv: Record<string, string> = {
    DATABASE_URL: databaseUrl.toString(),
    TEMPORAL_ADDRESS: env.address,
    GROK_BASE_URL: options.grok?.url ?? simulator.url,
    // No XAI_API_KEY: the api backend calls the simulator's stand-in of xAI's API, found here.
    SIMULATOR_URL: simulator.url,
    ACCOUNTS_DIR: accountsDir,
    DOWNLOADS_DIR: path.join(dir, 'downloads'),
    ARTIFACTS_DIR: path.join(dir, 'artifacts'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LOG_PRETTY: 'false',
    PROGRESS_THROTTLE_MS: '100',
    RATE_LIMIT_COOLDOWN_MS: '2000',
    // The pool's limits as before pools, unless a test sets them (test/account-pool-stack.test.ts).
    ACCOUNT_MIN_GAP_MS: '0',
    ACCOUNT_CONCURRENCY: '8',
    ACCOUNT_BUSY_RETRY_MS: '500',
    NOTIFY_DEBOUNCE_MS: '10',
    SHUTDOWN_GRACE_MS: '2000',
    ...options.env,
  };
  const config = loadConfig(configEnv);
  const logger = options.logger?.(config) ?? createLogger(config);
  const stop = new AbortController();
  const timeouts: ActivityTimeouts = { startToClose: '2 minutes', scheduleToClose: '5 minutes', heartbeat: '5 seconds', ...options.activityTimeouts };

  let masterReady!: () => void;
  const masterUp = new Promise<void>((r) => (masterReady = r));
  const master = runMaster(config, {
    signal: stop.signal,
    logger,
    client: env.client,
    connection: env.nativeConnection,
    schedulerInput: (entry) => schedulerInput(entry, { activityTimeouts: timeouts }),
    reconcileGraceMs: 2000,
    ...(options.masterTypes ? { types: options.masterTypes } : {}),
    onReady: () => masterReady(),
  });
  let backends: Backends | undefined;
  let slave: Promise<void> = Promise.resolve();
  if (options.slave !== false) {
    backends = createBackends(config, { logger });
    let slaveReady!: () => void;
    const slaveUp = new Promise<void>((r) => (slaveReady = r));
    slave = runSlave(config, { signal: stop.signal, logger, connection: env.nativeConnection, backends, onReady: () => slaveReady() });
    await Promise.race([slaveUp, slave]);
  }
  await Promise.race([masterUp, master]);

  return {
    t, env, simulator, config, generator: backends?.browser.driver, dir, configEnv,
    async insertJob(payload, type = 'GROK_VIDEO_GENERATION') {
      // Plain SQL, as an operator would.
      const { rows } = await t.pool.query('INSERT INTO jobs (type, payload) VALUES ($1, $2) RETURNING id', [type, JSON.stringify(payload)]);
      return Number(rows[0].id);
    },
    async waitForJob(id, statuses, timeoutMs = 60_000) {
      let job: Job | undefined;
      return waitFor(() => `job ${id} to be ${statuses.join('|')}: it is ${job?.status} (${job?.errorMessage ?? job?.progressMessage ?? ''}) after ${timeoutMs} ms`, async () => {
        [job] = await t.db.select().from(jobs).where(eq(jobs.id, id));
        return job && statuses.includes(job.status) ? job : undefined;
      }, timeoutMs, 100);
    },
    async untilGenerating(id, timeoutMs = 60_000) {
      let job: Job | undefined;
      await waitFor(() => `job ${id} to get to generating: ${job?.status} ${job?.progress}%`, async () => {
        [job] = await t.db.select().from(jobs).where(eq(jobs.id, id));
        return job?.status === 'PROGRESS' && job.progress > 15;
      }, timeoutMs, 50);
    },
    async items(id) {
      return t.db.select().from(jobItems).where(eq(jobItems.jobId, id)).orderBy(jobItems.index);
    },
    async stop() {
      stop.abort();
      await Promise.allSettled([master, slave]);
      if (backends) await closeBackends(backends);
      await simulator.close();
      await fixture.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
