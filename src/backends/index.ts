import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { driverSettingsFromConfig, GrokDriver } from './browser/driver';
import { browserGenerator } from './browser/generator';
import type { Generator } from './types';

// Every backend a slave can generate with, by the name a job chooses it by. Adding a backend
// is its folder under src/backends/ and one line here.
const FACTORIES = {
  browser: (config: Config, deps: { logger: Logger }) => browserGenerator(new GrokDriver(driverSettingsFromConfig(config, { logger: deps.logger }))),
} satisfies Record<string, (config: Config, deps: { logger: Logger }) => Generator>;

export type BackendName = keyof typeof FACTORIES;
export const BACKEND_NAMES = Object.keys(FACTORIES) as BackendName[];

/** One generator per backend, built once per slave process. */
export type Backends = { [K in BackendName]: ReturnType<(typeof FACTORIES)[K]> };

export function createBackends(config: Config, deps: { logger: Logger }): Backends {
  return Object.fromEntries(BACKEND_NAMES.map((name) => [name, FACTORIES[name](config, deps)])) as Backends;
}

export async function closeBackends(backends: Backends): Promise<void> {
  await Promise.all(Object.values(backends).map((b: Generator) => b.close()));
}
