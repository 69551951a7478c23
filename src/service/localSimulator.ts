import fs from 'node:fs';
import type { Config } from '../shared/config';
import type { GrokTarget } from '../shared/grokTarget';
import type { Logger } from '../shared/logger';
import { startSimulator, type Simulator } from '../simulator/server';
import { simulatorOptions } from '../simulator/config';
import { storageStatePath } from '../backends/browser/browser';
import { loginSimulatorUsers } from '../simulator/login';
import { xaiTarget } from '../backends/api/target';

/**
 * The simulator for `npm start` without GROK_BASE_URL or without XAI_API_KEY. Its sessions
 * live in memory, so each start logs its users in afresh, into the simulator's own accounts
 * folder (never ACCOUNTS_DIR, where real logins are kept): storage states written directly,
 * or in profile mode a sign-in inside each profile, the only place that mode reads a session
 * from. With a real Grok it runs only as the stand-in of xAI's API, and signs nobody in.
 */
export async function startLocalSimulator(config: Config, target: GrokTarget, logger: Logger): Promise<Simulator> {
  const options = simulatorOptions(config);
  const users = options.users;
  const simulator = await startSimulator(options);
  if (xaiTarget(config).simulated) {
    logger.warn({ url: simulator.xai.baseUrl }, 'XAI_API_KEY is unset: the API backend calls the SIMULATOR\'s stand-in of xAI\'s API, not api.x.ai');
  }
  if (!target.simulated) return simulator;
  fs.mkdirSync(target.accountsDir, { recursive: true, mode: 0o700 });
  if (config.AUTH_MODE === 'profile') {
    await loginSimulatorUsers(config, { ...target, baseUrl: simulator.url }, logger);
  } else {
    for (const user of users) {
      fs.writeFileSync(storageStatePath(target.accountsDir, user.name), JSON.stringify(simulator.storageState(user.name)), { mode: 0o600 });
    }
  }
  logger.warn({ url: simulator.url, accounts: users.map((u) => u.name) }, 'GROK_BASE_URL is unset: the Grok Imagine SIMULATOR runs in place of grok.com');
  return simulator;
}
