import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { toolPath } from '../setup/tools';
import { projectPath, type Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { createDb, createPool } from '../shared/db/client';
import { databaseIdentity } from '../shared/db/instance';
import { devServerSearchAttributeArgs } from '../shared/searchAttributes';
import { isRunning, removeOwner, runningOwner, writeOwner } from './devServerOwner';

export interface DevTemporal {
  address: string;
  uiUrl: string;
  /** The SQLite file holding this database's Temporal state. */
  stateFile: string;
  stop(): Promise<void>;
}

async function answers(address: string, timeoutMs = 500): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: timeoutMs });
    await c.healthService.check({});
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** The dev server's state file of this database: one per database identity, so switching DATABASE_URL switches Temporal state too. */
export async function devStateFile(config: Config): Promise<string> {
  const pool = createPool(config.DATABASE_URL, { max: 1 });
  try {
    return path.join(projectPath(config.GROKFLOW_DATA_DIR), `temporal-${await databaseIdentity(createDb(pool))}.db`);
  } finally {
    await pool.end();
  }
}

/**
 * `temporal server start-dev` with this database's state in a SQLite file, so it survives
 * restarts. Never adopts a server it cannot prove is its own: a dev server of this state
 * file left behind by a killed grokflow is stopped and started afresh; one still run by a
 * live grokflow, or anything else answering on the port, is refused with what to do.
 */
export async function startDevTemporal(config: Config, logger: Logger): Promise<DevTemporal> {
  const address = `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  const uiUrl = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
  const stateFile = await devStateFile(config);
  const previous = runningOwner(stateFile);
  if (previous && isRunning(previous.parent) && previous.parent !== process.pid) {
    throw new Error(`another grokflow (pid ${previous.parent}) runs this database's Temporal dev server (pid ${previous.pid}, 127.0.0.1:${previous.port}); stop it first`);
  }
  if (previous) {
    // Ours, orphaned (its grokflow was killed with SIGKILL): stop it; a fresh one is started below.
    logger.warn({ pid: previous.pid, port: previous.port, stateFile }, 'stopping the Temporal dev server a killed grokflow left behind');
    await stopProcess(previous.pid);
  }
  // A refused port answers at once; a slow server (a loaded machine) gets seconds, not 500 ms,
  // or it would be taken for none and our own server's answer later confused with it.
  if (await answers(address, 5000)) {
    throw new Error(`a Temporal server already answers on ${address} and it is not this database's dev server (${stateFile}); `
      + 'stop it, or set TEMPORAL_DEV_PORT and TEMPORAL_UI_PORT to free ports, or set TEMPORAL_ADDRESS to use that server on purpose');
  }
  const dataDir = path.dirname(stateFile);
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(dataDir, 'temporal.log');
  const out = fs.openSync(logFile, 'a');
  const child: ChildProcess = spawn(
    toolPath('temporal'),
    [
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', String(config.TEMPORAL_DEV_PORT),
      '--ui-port', String(config.TEMPORAL_UI_PORT),
      '--db-filename', stateFile,
      '--namespace', config.TEMPORAL_NAMESPACE,
      '--log-level', 'warn',
      ...devServerSearchAttributeArgs(),
    ],
    // Its own process group: a terminal's Ctrl-C reaches grokflow only, which stops the
    // workers first and the server last.
    { stdio: ['ignore', out, out], detached: true },
  );
  fs.closeSync(out);
  if (child.pid) writeOwner(stateFile, { pid: child.pid, parent: process.pid, port: config.TEMPORAL_DEV_PORT });
  const killOnExit = () => {
    child.kill('SIGKILL');
    removeOwner(stateFile);
  };
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

  // Polling, not a Temporal retry: this waits for Temporal itself to come up.
  const deadline = Date.now() + 60_000;
  while (!(await answers(address))) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with ${child.exitCode}; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not answer on ${address} within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The answer must be our child's: one that could not bind the port exits at once.
  await Promise.race([exited, new Promise((r) => setTimeout(r, 300))]);
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(`temporal server start-dev exited (${child.exitCode ?? child.signalCode}) while another server answers on ${address}; see ${logFile}`);
  }
  logger.info({ address, uiUrl, logFile, stateFile }, 'embedded Temporal dev server started');

  return {
    address,
    uiUrl,
    stateFile,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      removeOwner(stateFile);
    },
  };
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process is gone. */
async function stopProcess(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals) => { try { process.kill(pid, s); } catch { /* gone */ } };
  signal('SIGTERM');
  // Polling: the process is not our child, so there is no exit event to wait on.
  for (const deadline = Date.now() + 10_000; isRunning(pid) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 100));
  if (isRunning(pid)) signal('SIGKILL');
  while (isRunning(pid)) await new Promise((r) => setTimeout(r, 100));
}
