import path from 'node:path';
import { projectPath, type Config } from './config';

export interface GrokTarget {
  baseUrl: string;
  /** No GROK_BASE_URL: the bundled simulator, never grok.com. */
  simulated: boolean;
  /** Where storage states live. The simulator's are kept apart so they never replace a real login. */
  accountsDir: string;
}

/** Which Grok the slave drives: GROK_BASE_URL, or the simulator (SIMULATOR_URL or SIMULATOR_PORT). */
export function grokTarget(config: Config): GrokTarget {
  if (config.GROK_BASE_URL) {
    return { baseUrl: config.GROK_BASE_URL, simulated: false, accountsDir: projectPath(config.ACCOUNTS_DIR) };
  }
  return {
    baseUrl: simulatorUrl(config),
    simulated: true,
    accountsDir: projectPath(path.join(config.GROKFLOW_DATA_DIR, 'simulator-accounts')),
  };
}

/** Where the bundled simulator is reached: SIMULATOR_URL, or loopback at SIMULATOR_PORT. */
export function simulatorUrl(config: Pick<Config, 'SIMULATOR_URL' | 'SIMULATOR_PORT'>): string {
  return config.SIMULATOR_URL ?? `http://127.0.0.1:${config.SIMULATOR_PORT}`;
}
