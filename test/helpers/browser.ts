import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GrokDriver, type DriverTimeouts } from '../../src/backends/browser/driver';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/server';

// A real simulator + a real Chromium driver for tests, in a throw-away folder.

export const FAST_TIMEOUTS: Partial<DriverTimeouts> = {
  navigationMs: 15_000,
  actionMs: 10_000,
  progressStartMs: 15_000,
  // Well above a poll under load: 4 Chromium tests at once on 2 cores can starve a page
  // for over a second (a 1.5 s limit failed an A/B test that way).
  stuckMs: 4_000,
  generationMs: 30_000,
  upscaleMs: 15_000,
  downloadMs: 15_000,
  pollMs: 50,
  // Every generation of the driver tests waits minimized (the simulator's take a few seconds at most).
  hideAfterMs: 0,
};

export interface GrokHarness {
  sim: Simulator;
  driver: GrokDriver;
  dir: string;
  accountsDir: string;
  downloadsDir: string;
  artifactsDir: string;
  /** Writes a logged-in storage state for a simulator user (0600), as `login` would. */
  loginAccount(name?: string): string;
  downloadPath(jobId: string, name?: string): string;
  close(): Promise<void>;
}

export async function startHarness(
  simOptions: SimulatorOptions = {},
  driverOptions: { timeouts?: Partial<DriverTimeouts>; rateLimitCooldownMs?: number; trace?: boolean; prewarm?: boolean } = {},
): Promise<GrokHarness> {
  const sim = await startSimulator({ generationMs: 500, ...simOptions });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-driver-'));
  const accountsDir = path.join(dir, 'accounts');
  const downloadsDir = path.join(dir, 'downloads');
  const artifactsDir = path.join(dir, 'artifacts');
  fs.mkdirSync(accountsDir, { recursive: true });
  const driver = new GrokDriver({
    baseUrl: sim.url,
    chromiumPath: process.env.CHROMIUM_PATH,
    headless: true,
    authMode: 'storageState',
    accountsDir,
    artifactsDir,
    // Uploads come from the test's own folder.
    imagesDir: dir,
    trace: driverOptions.trace ?? false,
    prewarm: driverOptions.prewarm ?? false,
    rateLimitCooldownMs: driverOptions.rateLimitCooldownMs ?? 15 * 60_000,
    timeouts: { ...FAST_TIMEOUTS, ...driverOptions.timeouts },
  });
  return {
    sim,
    driver,
    dir,
    accountsDir,
    downloadsDir,
    artifactsDir,
    loginAccount(name = 'default') {
      const file = path.join(accountsDir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify(sim.storageState(name)), { mode: 0o600 });
      return name;
    },
    downloadPath(jobId, name = 'video.mp4') {
      return path.join(downloadsDir, jobId, name);
    },
    async close() {
      await driver.close();
      await sim.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
