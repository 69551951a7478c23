import { runMaster } from '../master/worker';
import type { Config } from '../shared/config';
import { createDb, createPool } from '../shared/db/client';
import { redactUrl } from '../shared/db/migrate';
import { listPauses, pausedLine } from '../shared/jobs/pauses';
import { grokTarget } from '../shared/grokTarget';
import { xaiTarget } from '../backends/api/target';
import type { Logger } from '../shared/logger';
import { metricsUrl } from '../shared/metrics';
import { metricsPort, startObservability } from '../shared/observability';
import { connectClient, connectWorker, temporalAddress } from '../shared/temporal';
import { closeBackends, createBackends } from '../backends';
import { runSlave } from '../slave/worker';
import { webToken } from '../web/auth';
import { startWeb } from '../web/server';
import { startDevTemporal, type DevTemporal } from './devTemporal';
import { startLocalSimulator } from './localSimulator';

export interface ServiceInfo {
  temporalAddress: string;
  webUiUrl?: string;
  databaseUrl: string;
  grokUrl: string;
  simulated: boolean;
  /** Where the API backend calls xAI: the simulator's stand-in without XAI_API_KEY. */
  xaiUrl: string;
  xaiSimulated: boolean;
  metricsUrl?: string;
  webUrl?: string;
  schedulerCron: string;
  /** The schedulers' next three runs, as Temporal reads SCHEDULER_CRON. */
  nextRuns: Date[];
  /** What is paused at start (`paused: pool night (…)`): its jobs wait for `grokflow resume`. */
  paused?: string;
}

/**
 * Everything in one process, for `npm start`: a Temporal dev server unless TEMPORAL_ADDRESS
 * names one, the simulator unless GROK_BASE_URL names a Grok, the master and a slave.
 * Resolves once `signal` aborted and every part has stopped, children included.
 */
export async function runService(config: Config, logger: Logger, signal: AbortSignal, onReady?: (info: ServiceInfo) => void): Promise<void> {
  const stack: Array<() => Promise<unknown>> = [];
  // A console that would refuse to start (no WEB_TOKEN beyond loopback) stops us before anything runs.
  if (config.WEB_PORT) webToken(config);
  try {
    let dev: DevTemporal | undefined;
    if (!config.TEMPORAL_ADDRESS) {
      dev = await startDevTemporal(config, logger);
      stack.push(() => dev!.stop());
    }
    const target = grokTarget(config);
    const xai = xaiTarget(config);
    if (target.simulated || xai.simulated) {
      const simulator = await startLocalSimulator(config, target, logger);
      stack.push(() => simulator.close());
    }
    // One pool for the master, the slave and the metrics gauge.
    const pool = createPool(config.DATABASE_URL);
    stack.push(() => pool.end());
    const db = createDb(pool);
    const observability = await startObservability(config, logger, 'service', db);
    // Said at start: a paused type or pool left from an earlier run explains jobs that stay
    // PENDING. A database that cannot answer is the master's to report, in its own words.
    const paused = await listPauses(db).then(pausedLine, () => undefined);
    stack.push(() => observability.close());

    const address = temporalAddress(config);
    const connection = await connectWorker(config);
    stack.push(() => connection.close());
    const client = await connectClient(config);
    stack.push(() => client.connection.close());
    const backends = createBackends(config, { logger });
    stack.push(() => closeBackends(backends));
    const web = config.WEB_PORT
      ? await startWeb(config, { db, logger, temporal: async () => client, temporalUiUrl: config.TEMPORAL_UI_URL ?? dev?.uiUrl })
      : undefined;
    if (web) stack.push(() => web.close());

    let ready = 0;
    let nextRuns: Date[] = [];
    const bothReady = () => {
      if (++ready < 2) return;
      onReady?.({
        temporalAddress: address,
        webUiUrl: dev?.uiUrl,
        databaseUrl: redactUrl(config.DATABASE_URL),
        grokUrl: target.baseUrl,
        simulated: target.simulated,
        xaiUrl: xai.baseUrl,
        xaiSimulated: xai.simulated,
        metricsUrl: metricsPort(config, 'service') ? metricsUrl(config.METRICS_HOST, metricsPort(config, 'service')) : undefined,
        webUrl: web?.url,
        schedulerCron: config.SCHEDULER_CRON,
        nextRuns,
        paused,
      });
    };
    // One part failing stops the other: a half-running service would only confuse.
    const stop = new AbortController();
    if (signal.aborted) stop.abort();
    signal.addEventListener('abort', () => stop.abort(), { once: true });
    const parts = [
      runMaster(config, { signal: stop.signal, logger: logger.child({ role: 'master' }), client, connection, db, onReady: (info) => { nextRuns = info.nextRuns; bothReady(); } }),
      runSlave(config, { signal: stop.signal, logger: logger.child({ role: 'slave' }), connection, db, backends, onReady: bothReady }),
    ];
    const results = await Promise.allSettled(parts.map((p) => p.catch((err: unknown) => { stop.abort(); throw err; })));
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  } finally {
    for (const stop of stack.reverse()) await stop().catch((err: unknown) => logger.warn({ err }, 'while stopping'));
  }
}
