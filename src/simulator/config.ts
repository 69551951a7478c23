import type { Config } from '../shared/config';
import type { SimulatorOptions, SimulatorUser } from './server';

/** SIMULATOR_USERS, `name:password,name2:password2`; a name alone gets the password "secret". */
export function parseSimulatorUsers(spec: string): SimulatorUser[] {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.indexOf(':');
      return i > 0 ? { name: s.slice(0, i), password: s.slice(i + 1) } : { name: s, password: 'secret' };
    });
}

/** The simulator as the SIMULATOR_* settings describe it. */
export function simulatorOptions(config: Config): SimulatorOptions & { users: SimulatorUser[] } {
  return {
    port: config.SIMULATOR_PORT,
    host: config.SIMULATOR_HOST,
    generationMs: config.SIMULATOR_GENERATION_MS,
    cooldownMs: config.SIMULATOR_COOLDOWN_MS,
    uiVariant: config.SIMULATOR_UI_VARIANT,
    users: parseSimulatorUsers(config.SIMULATOR_USERS),
  };
}
