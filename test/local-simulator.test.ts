import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { startLocalSimulator } from '../src/service/localSimulator';
import { loadConfig } from '../src/shared/config';
import { freeLoopbackPort } from '../src/shared/freePort';
import { grokTarget } from '../src/shared/grokTarget';
import { createLogger } from '../src/shared/logger';
import { driverSettingsFromConfig, GrokDriver } from '../src/backends/browser/driver';

// The simulator `npm start` runs when no Grok is configured: its users must be logged in the
// way the configured AUTH_MODE reads a session, or the first job ends "needs a new login".

describe('npm start\'s simulator logs its users in for the configured AUTH_MODE', () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  for (const authMode of ['storageState', 'profile'] as const) {
    test(`AUTH_MODE=${authMode}: a generation runs on the session it left`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-localsim-'));
      dirs.push(dir);
      const config = loadConfig({
        AUTH_MODE: authMode,
        SIMULATOR_PORT: String(await freeLoopbackPort()),
        SIMULATOR_USERS: 'default:pw',
        SIMULATOR_GENERATION_MS: '300',
        GROKFLOW_DATA_DIR: path.join(dir, 'data'),
        DOWNLOADS_DIR: path.join(dir, 'downloads'),
        ARTIFACTS_DIR: path.join(dir, 'artifacts'),
        LOG_LEVEL: 'warn',
        LOG_PRETTY: 'false',
      });
      const target = grokTarget(config);
      const logger = createLogger(config);
      const simulator = await startLocalSimulator(config, target, logger);
      const driver = new GrokDriver(driverSettingsFromConfig(config, { logger }));
      try {
        const stateFile = path.join(target.accountsDir, 'default.json');
        const profile = path.join(target.accountsDir, 'default.profile');
        assert.equal(fs.existsSync(stateFile), authMode === 'storageState', 'a storage state file only in storageState mode');
        assert.equal(fs.existsSync(profile), authMode === 'profile', 'a profile only in profile mode');

        const outcome = await driver.generateVideo({
          jobId: `local-${authMode}`, itemIndex: 0, account: 'default', postUrl: simulator.createPost('default').url,
          prompt: 'a kite over the dunes', duration: 'max', downloadPath: path.join(dir, 'downloads', `${authMode}.mp4`),
        });
        assert.equal(outcome.kind, 'success', JSON.stringify(outcome));
      } finally {
        await driver.close();
        await simulator.close();
      }
    });
  }
});
