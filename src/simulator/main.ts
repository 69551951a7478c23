import { loadConfig } from '../shared/config';
import { createLogger } from '../shared/logger';
import { startSimulator } from './server';
import { simulatorOptions } from './config';
import { abortOnSignals, logProcessWarnings, runMain } from '../shared/processLifecycle';

// `npm run simulator`: the Grok Imagine simulator alone, for slaves without GROK_BASE_URL
// (they find it at SIMULATOR_URL) or for trying the driver by hand.
async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config, { role: 'simulator' });
  const signal = abortOnSignals(log);
  logProcessWarnings(log);
  const options = simulatorOptions(config);
  const users = options.users;
  const sim = await startSimulator(options);
  log.warn({ url: sim.url, users: users.map((u) => u.name) }, 'Grok Imagine SIMULATOR running — this is not grok.com');
  for (const u of users) log.info({ user: u.name, post: sim.createPost(u.name).url }, 'demo post');
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  await sim.close();
}

runMain(main);
