import type { Config } from '../shared/config';
import type { Logger } from '../shared/logger';
import { apiGenerator } from './api/generator';
import { driverSettingsFromConfig, GrokDriver } from './browser/driver';
import { browserGenerator } from './browser/generator';
import { BACKEND_NAMES, type BackendName } from './names';
import type { Generator } from './types';

export { BACKEND_NAMES, type BackendName };

// Every backend a slave can generate with, by the name a job chooses it by (names.ts). Adding
// a backend is its folder under src/backends/, its name in names.ts and one line here.
// `activitiesPerSecond`: Temporal's rate limit on the backend's task queue, across every
// slave (maxTaskQueueActivitiesPerSecond); undefined: none.
interface BackendEntry {
  create(config: Config, deps: { logger: Logger }): Generator;
  activitiesPerSecond(config: Config): number | undefined;
}

const BACKENDS = {
  browser: {
    create: (config: Config, deps: { logger: Logger }) => browserGenerator(new GrokDriver(driverSettingsFromConfig(config, { logger: deps.logger }))),
    activitiesPerSecond: () => undefined,
  },
  api: { create: (config: Config, deps: { logger: Logger }) => apiGenerator(config, deps), activitiesPerSecond: (config: Config) => config.XAI_REQUESTS_PER_SECOND },
} satisfies Record<BackendName, BackendEntry>;

/** One generator per backend, built once per slave process. */
export type Backends = { [K in BackendName]: ReturnType<(typeof BACKENDS)[K]['create']> };

export function createBackends(config: Config, deps: { logger: Logger }): Backends {
  return Object.fromEntries(BACKEND_NAMES.map((name) => [name, BACKENDS[name].create(config, deps)])) as Backends;
}

export async function closeBackends(backends: Backends): Promise<void> {
  await Promise.all(Object.values(backends).map((b: Generator) => b.close()));
}

export function activitiesPerSecond(config: Config, name: BackendName): number | undefined {
  return BACKENDS[name].activitiesPerSecond(config);
}
