import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { toolPath } from '../setup/tools';
import { projectPath, type Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { devServerSearchAttributeArgs } from '../shared/searchAttributes';

export interface DevTemporal {
  address: string;
  uiUrl: string;
  /** false when a server already answered on the port and was reused. */
  owned: boolean;
  stop(): Promise<void>;
}

async function answers(address: string): Promise<boolean> {
  try {
    const c = await Connection.connect({ address, connectTimeout: 500 });
    await c.healthService.check({});
    await c.close();
    return true;
  } catch {
    return false;
  }
}

/** `temporal server start-dev` with its state in a SQLite file, so it survives restarts. */
export async function startDevTemporal(config: Config, logger: Logger): Promise<DevTemporal> {
  const address = `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
  const uiUrl = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
  if (await answers(address)) {
    logger.info({ address }, 'a Temporal server already answers there; using it');
    return { address, uiUrl, owned: false, stop: async () => undefined };
  }
  const dataDir = projectPath(config.GROKFLOW_DATA_DIR);
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
      '--db-filename', path.join(dataDir, 'temporal.db'),
      '--namespace', config.TEMPORAL_NAMESPACE,
      '--log-level', 'warn',
      ...devServerSearchAttributeArgs(),
    ],
    // Its own process group: a terminal's Ctrl-C reaches grokflow only, which stops the
    // workers first and the server last.
    { stdio: ['ignore', out, out], detached: true },
  );
  fs.closeSync(out);
  const killOnExit = () => child.kill('SIGKILL');
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
  logger.info({ address, uiUrl, logFile }, 'embedded Temporal dev server started');

  return {
    address,
    uiUrl,
    owned: true,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
