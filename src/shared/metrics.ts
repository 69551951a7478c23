import http from 'node:http';
import net from 'node:net';
import { sql } from 'drizzle-orm';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ConfigError } from './config';
import type { Db } from './db/client';
import type { Logger } from './logger';

// grokflow's own metrics. The Temporal SDK's (workflow/activity task latencies, slots,
// sticky cache…) come from the SDK runtime and are served on the same endpoint.
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'grokflow_process_' });

export const itemsTotal = new Counter({
  name: 'grokflow_items_total',
  help: 'Generated items by job type and outcome',
  labelNames: ['type', 'outcome'] as const,
  registers: [registry],
});

export const moderationRetriesTotal = new Counter({
  name: 'grokflow_moderation_retries_total',
  help: 'Regenerations after a content-moderated answer',
  registers: [registry],
});

export const cooldownsTotal = new Counter({
  name: 'grokflow_account_cooldowns_total',
  help: 'Rate limits hit, by account',
  labelNames: ['account'] as const,
  registers: [registry],
});

export const generationSeconds = new Histogram({
  name: 'grokflow_generation_seconds',
  help: 'Time of one successful generation, prompt to downloaded file',
  labelNames: ['type'] as const,
  buckets: [5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600],
  registers: [registry],
});

/**
 * Each step of a generation (src/shared/itemSteps.ts): where an item's time goes, the page's
 * work apart from Grok's own generation. Buckets from 50 ms (a menu) to 10 min (a generation).
 */
export const itemStepSeconds = new Histogram({
  name: 'grokflow_item_step_seconds',
  help: 'Time of one step of an item (page, options, prompt, submit, generation, download, upscale, delete), by backend',
  labelNames: ['step', 'backend'] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
  registers: [registry],
});

/** Canary checks (`accounts check`, scheduled by CANARY_CRON) by result. */
export const canaryChecksTotal = new Counter({
  name: 'grokflow_canary_checks_total',
  help: 'Scheduled account checks by account and result (ok, failed)',
  labelNames: ['account', 'result'] as const,
  registers: [registry],
});

/** Jobs by type and status, read from Postgres at scrape time (the master's endpoint). */
export function registerJobGauge(db: Db): void {
  if (registry.getSingleMetric('grokflow_jobs')) return;
  new Gauge({
    name: 'grokflow_jobs',
    help: 'Jobs by type and status',
    labelNames: ['type', 'status'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await db.execute<{ type: string; status: string; n: number }>(
        sql`SELECT type, status::text AS status, count(*)::int AS n FROM jobs GROUP BY type, status`,
      );
      this.reset();
      for (const r of rows) this.set({ type: r.type, status: r.status }, r.n);
    },
  });
}

/** Paused job types and pools (job_pauses), 1 each, read at scrape time: an alert can say what is paused. */
export function registerPauseGauge(db: Db): void {
  if (registry.getSingleMetric('grokflow_paused')) return;
  new Gauge({
    name: 'grokflow_paused',
    help: 'Paused job types and pools (scope "type" or "pool"): 1 while paused',
    labelNames: ['scope', 'name'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await db.execute<{ scope: string; name: string }>(sql`SELECT scope, name FROM job_pauses`);
      this.reset();
      for (const r of rows) this.set({ scope: r.scope, name: r.name }, 1);
    },
  });
}

/** What the per-account gauges need of each account (src/slave/accounts/status.ts computes it). */
export interface AccountFigures {
  name: string;
  pool: string;
  inFlight: number;
  concurrency: number;
  cooldownSeconds: number;
  usedToday: number;
  quotaLeft: number | null;
  /** What Grok's quota_info said was left (null: never read, or its window has passed). */
  grokQuotaLeft: number | null;
  /** The last canary: true passed, false failed (held out of its pool), null never checked. */
  canaryOk: boolean | null;
  lastAuthError: string | null;
  lastError: string | null;
}

/**
 * Per-account gauges, read at scrape time from the same figures as `accounts list`, so every
 * endpoint (master, slave) shows the cluster-wide state, not its own process's share.
 * The last error is a 0/1 gauge, not a label: its text would make a new series per message.
 */
export function registerAccountGauges(read: () => Promise<AccountFigures[]>): void {
  if (registry.getSingleMetric('grokflow_account_in_flight')) return;
  let snapshot: Promise<AccountFigures[]> | undefined;
  // One read per scrape for all the gauges: the first collect() of a scrape starts it.
  const figures = () => (snapshot ??= read().finally(() => setTimeout(() => (snapshot = undefined), 500)));
  const gauge = (name: string, help: string, value: (a: AccountFigures) => number | null) => new Gauge({
    name, help, labelNames: ['account', 'pool'] as const, registers: [registry],
    async collect() {
      const all = await figures();
      this.reset();
      for (const a of all) {
        const v = value(a);
        if (v !== null) this.set({ account: a.name, pool: a.pool }, v);
      }
    },
  });
  gauge('grokflow_account_in_flight', 'Generations running on the account now, across every slave', (a) => a.inFlight);
  gauge('grokflow_account_concurrency', 'Generations the account may run at once', (a) => a.concurrency);
  gauge('grokflow_account_cooldown_seconds', 'Seconds until the account\'s rate-limit cooldown ends (0: not cooling)', (a) => a.cooldownSeconds);
  gauge('grokflow_account_quota_used', 'Items the account completed today', (a) => a.usedToday);
  gauge('grokflow_account_quota_left', 'Items left of the account\'s daily quota (absent: no quota)', (a) => a.quotaLeft);
  gauge('grokflow_account_grok_quota_left', 'Generations Grok says the account has left (quota_info; absent: not known)', (a) => a.grokQuotaLeft);
  gauge('grokflow_account_canary_ok', '1 when the account\'s last check passed, 0 when it failed (held out of its pool); absent: never checked', (a) => (a.canaryOk === null ? null : a.canaryOk ? 1 : 0));
  gauge('grokflow_account_error', '1 when the account\'s last generation or login failed (`accounts list` shows the message)', (a) => (a.lastAuthError ?? a.lastError ? 1 : 0));
}

/** Where to scrape an endpoint listening on host:port (on every interface: this host's loopback). */
export function metricsUrl(host: string, port: number): string {
  return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`;
}

export async function startMetricsServer(opts: { port: number; host: string; sdkMetricsAddress?: string; logger: Logger }): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('try /metrics\n');
      return;
    }
    try {
      let body = await registry.metrics();
      if (opts.sdkMetricsAddress) {
        const sdk = await fetch(`http://${opts.sdkMetricsAddress}/metrics`).then((r) => r.text()).catch(() => '');
        body += `\n${sdk}`;
      }
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  });
  server.listen(opts.port, opts.host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE'
      ? new ConfigError([`METRICS_PORT: ${opts.host}:${opts.port} is already in use (another grokflow process on this host?); set METRICS_PORT to a free port, or 0 to turn metrics off`])
      : err));
  });
  opts.logger.info({ url: metricsUrl(opts.host, (server.address() as net.AddressInfo).port), host: opts.host }, 'metrics endpoint');
  return server;
}
