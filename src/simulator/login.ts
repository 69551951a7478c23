import type { Config } from '../shared/config';
import type { GrokTarget } from '../shared/grokTarget';
import type { Logger } from '../shared/logger';
import { parseSimulatorUsers } from './config';
import { login } from '../backends/browser/login';

/**
 * A slave of its own (`npm run slave`, a compose replica) facing the simulator signs its
 * SIMULATOR_USERS in through the sign-in page, as a person would on Grok: the simulator
 * keeps sessions in memory, so a saved state from an earlier run is worthless.
 */
export async function loginSimulatorUsers(config: Config, target: GrokTarget, logger: Logger): Promise<void> {
  for (const user of parseSimulatorUsers(config.SIMULATOR_USERS)) {
    await login(user.name, target.baseUrl, {
      headless: true,
      accountsDir: target.accountsDir,
      authMode: config.AUTH_MODE,
      chromiumPath: config.CHROMIUM_PATH,
      credentials: { username: user.name, password: user.password },
    });
    logger.info({ account: user.name, grok: target.baseUrl }, 'signed in to the simulator');
  }
}
