import assert from 'node:assert/strict';
import net from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import pino from 'pino';
import { defaultReconcileGraceMs } from '../src/master/activities';
import { runMaster, type MasterReadyInfo } from '../src/master/worker';
import { ConfigError, loadConfig } from '../src/shared/config';
import { startMetricsServer } from '../src/shared/metrics';
import { metricsPort } from '../src/shared/observability';
import { dbAndTemporalForSuite } from './helpers/dbAndTemporal';

// Settings that would mean something else than they say are refused at start, with a
// message naming the variable and the right form.

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  return assert.fail(`accepted: ${JSON.stringify(env)}`);
}

describe('configuration: refused when it means something else', () => {
  test('a 6-field SCHEDULER_CRON is refused with the forms that say what was meant', () => {
    const message = refusal({ SCHEDULER_CRON: '*/10 * * * * *' });
    assert.match(message, /SCHEDULER_CRON: "\*\/10 \* \* \* \* \*" has 6 fields/);
    assert.match(message, /YEAR/);
    assert.match(message, /"@every 10s"/);
    assert.match(message, /"\*\/10 \* \* \* \* \* \*"/, 'the 7-field form with seconds');
    assert.match(message, /"\*\/10 \* \* \* \*"/, 'the 5-field form for minutes');
  });

  test('forms Temporal reads as written are accepted; other field counts and bad shorthands are not', () => {
    for (const cron of ['* * * * *', '*/10 * * * * * *', '@every 10s', '@every 1m/15s', '@hourly', 'CRON_TZ=Europe/Paris 0 12 * * MON-FRI', '0 3 * * * # nightly']) {
      assert.equal(loadConfig({ SCHEDULER_CRON: cron }).SCHEDULER_CRON, cron);
    }
    assert.match(refusal({ SCHEDULER_CRON: '* * * *' }), /SCHEDULER_CRON: .* has 4 fields; use 5 fields/);
    assert.match(refusal({ SCHEDULER_CRON: '@every ten seconds' }), /SCHEDULER_CRON: .*"@every <n><s\|m\|h\|d>"/);
    assert.match(refusal({ SCHEDULER_CRON: '* * * * ;' }), /SCHEDULER_CRON: .*";" is not a cron field/);
  });

  test('ports that one process would listen on twice are refused, naming both variables', () => {
    const message = refusal({ TEMPORAL_DEV_PORT: '9000', TEMPORAL_UI_PORT: '9000', SIMULATOR_PORT: '9000', METRICS_PORT: '9000' });
    assert.match(message, /TEMPORAL_UI_PORT: TEMPORAL_DEV_PORT and TEMPORAL_UI_PORT are both 9000/);
    assert.match(message, /SIMULATOR_PORT: TEMPORAL_UI_PORT and SIMULATOR_PORT are both 9000/);
    assert.match(message, /METRICS_PORT: SIMULATOR_PORT and METRICS_PORT are both 9000/);
    // Ports of parts that do not run are not counted: a remote Temporal, the real Grok and xAI API.
    const remote = loadConfig({ TEMPORAL_ADDRESS: 'temporal:7233', GROK_BASE_URL: 'https://grok.com', XAI_API_KEY: 'xai-test', TEMPORAL_DEV_PORT: '9000', SIMULATOR_PORT: '9000', METRICS_PORT: '9000' });
    assert.equal(remote.METRICS_PORT, 9000);
    // Without an API key the simulator runs as the API's stand-in, so its port counts again.
    assert.match(refusal({ GROK_BASE_URL: 'https://grok.com', SIMULATOR_PORT: '9000', METRICS_PORT: '9000' }), /METRICS_PORT: SIMULATOR_PORT and METRICS_PORT are both 9000/);
    // 0 is "off" (metrics) or "any free port", never a clash.
    assert.equal(loadConfig({ METRICS_PORT: '0', SIMULATOR_PORT: '0' }).METRICS_PORT, 0);
  });

  test('a cooldown of 0, a non-Postgres DATABASE_URL, a TEMPORAL_ADDRESS with a scheme are refused', () => {
    assert.match(refusal({ RATE_LIMIT_COOLDOWN_MS: '0' }), /RATE_LIMIT_COOLDOWN_MS: at least 1 ms/);
    assert.match(refusal({ DATABASE_URL: 'http://127.0.0.1:5432/grokflow' }), /DATABASE_URL: a postgres:\/\//);
    assert.match(refusal({ TEMPORAL_ADDRESS: 'http://temporal:7233' }), /TEMPORAL_ADDRESS: host:port without a scheme/);
    assert.match(refusal({ RECONCILE_GRACE_MS: '0' }), /RECONCILE_GRACE_MS/);
  });

  test('the master and a slave have their own metrics port by default; METRICS_PORT overrides both', () => {
    const unset = loadConfig({});
    assert.equal(metricsPort(unset, 'master'), 9464);
    assert.equal(metricsPort(unset, 'service'), 9464);
    assert.equal(metricsPort(unset, 'slave'), 9465);
    assert.equal(metricsPort(loadConfig({ METRICS_PORT: '0' }), 'slave'), 0);
    assert.equal(metricsPort(loadConfig({ METRICS_PORT: '9999' }), 'master'), 9999);
    assert.equal(unset.METRICS_HOST, '127.0.0.1');
  });

  test('the reconciler\'s default grace: half the cron period, at most 30 s, at least 1 s', () => {
    assert.equal(defaultReconcileGraceMs(60_000), 30_000);
    assert.equal(defaultReconcileGraceMs(10_000), 5000);
    assert.equal(defaultReconcileGraceMs(3_600_000), 30_000);
    assert.equal(defaultReconcileGraceMs(1000), 1000);
    assert.equal(defaultReconcileGraceMs(undefined), 30_000);
  });
});

describe('metrics endpoint', () => {
  const silent = pino({ level: 'silent' });

  test('listens on METRICS_HOST (loopback by default), and a port in use is a clear error naming METRICS_PORT', async () => {
    const first = await startMetricsServer({ port: 0, host: loadConfig({}).METRICS_HOST, logger: silent });
    try {
      const address = first.address() as net.AddressInfo;
      assert.equal(address.address, '127.0.0.1');
      await assert.rejects(
        startMetricsServer({ port: address.port, host: '127.0.0.1', logger: silent }),
        (err: unknown) => err instanceof ConfigError && /METRICS_PORT: 127\.0\.0\.1:\d+ is already in use .*set METRICS_PORT to a free port, or 0/.test(err.message),
      );
    } finally {
      await new Promise((r) => first.close(r));
    }
  });
});

describe('master: the schedule as Temporal reads SCHEDULER_CRON', () => {
  const fx = dbAndTemporalForSuite();

  test('"@every 10s": the next three runs 10 s apart in the log and onReady, the reconciler\'s grace derived from it', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, done) { lines.push(JSON.parse(String(chunk))); done(); } }));
    const config = loadConfig({ DATABASE_URL: fx.t.url, TEMPORAL_ADDRESS: fx.env.address, SCHEDULER_CRON: '@every 10s', LOG_PRETTY: 'false' });
    const abort = new AbortController();
    let info: MasterReadyInfo | undefined;
    const master = runMaster(config, {
      signal: abort.signal, logger, client: fx.env.client, connection: fx.env.nativeConnection, db: fx.t.db, listen: false,
      onReady: (i) => { info = i; abort.abort(); },
    });
    await master;
    assert.ok(info, 'the master got ready');
    assert.equal(info.nextRuns.length, 3);
    const gaps = info.nextRuns.slice(1).map((d, i) => d.getTime() - info!.nextRuns[i]!.getTime());
    assert.deepEqual(gaps, [10_000, 10_000]);
    assert.equal(info.reconcileGraceMs, 5000);
    const logged = lines.find((l) => l.msg === 'scheduler cron');
    assert.deepEqual(logged?.nextRuns, info.nextRuns.map((d) => d.toISOString()));
    assert.equal(logged?.cron, '@every 10s');
    assert.equal(logged?.reconcileGraceMs, 5000);
  });

  test('RECONCILE_GRACE_MS overrides the derived grace', async () => {
    const config = loadConfig({ DATABASE_URL: fx.t.url, TEMPORAL_ADDRESS: fx.env.address, SCHEDULER_CRON: '* * * * *', RECONCILE_GRACE_MS: '7000' });
    const abort = new AbortController();
    let info: MasterReadyInfo | undefined;
    await runMaster(config, {
      signal: abort.signal, logger: pino({ level: 'silent' }), client: fx.env.client, connection: fx.env.nativeConnection, db: fx.t.db, listen: false,
      onReady: (i) => { info = i; abort.abort(); },
    });
    assert.equal(info?.reconcileGraceMs, 7000);
    assert.equal(info?.nextRuns.length, 3);
    assert.deepEqual(info?.nextRuns.map((d) => d.getUTCSeconds()), [0, 0, 0], 'five fields: on the minute');
  });
});
