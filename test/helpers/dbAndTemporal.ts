import { after, before } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestDatabase, type TestDatabase } from './db';
import { startTemporal } from './temporal';

// A fresh database and a real Temporal dev server, the set-up most process and master tests
// share: started together, stopped together.

export interface DbAndTemporal {
  t: TestDatabase;
  env: TestWorkflowEnvironment;
  /** Stops the dev server early (a test of what happens when Temporal goes away); stop() then leaves it. */
  stopTemporal(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDbAndTemporal(): Promise<DbAndTemporal> {
  const [t, env] = await Promise.all([createTestDatabase(), startTemporal()]);
  let temporalUp = true;
  const stopTemporal = async () => {
    if (!temporalUp) return;
    temporalUp = false;
    await env.teardown();
  };
  return {
    t, env, stopTemporal,
    async stop() {
      await stopTemporal();
      await t.drop();
    },
  };
}

/**
 * Registers before/after hooks on the calling describe: its tests share one database and
 * one dev server, read through the returned object once `before` has run.
 */
export function dbAndTemporalForSuite(): DbAndTemporal {
  let fixture: DbAndTemporal | undefined;
  before(async () => {
    fixture = await startDbAndTemporal();
  });
  after(async () => {
    await fixture?.stop();
  });
  const started = () => {
    if (!fixture) throw new Error('the database and Temporal are not started yet (read them inside a test or hook)');
    return fixture;
  };
  return {
    get t() { return started().t; },
    get env() { return started().env; },
    stopTemporal: () => started().stopTemporal(),
    stop: () => started().stop(),
  };
}
