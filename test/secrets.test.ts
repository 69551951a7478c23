import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import pino from 'pino';
import { freeLoopbackPort } from '../src/shared/freePort';
import { createLogger } from '../src/shared/logger';
import { secretScrubber } from '../src/shared/secrets';
import { startWeb, type WebConsole } from '../src/web/server';
import { startReceiver, type Receiver } from './helpers/receiver';
import { startStack, type Stack } from './helpers/stack';
import { startVersitygw, type Versitygw } from './helpers/versitygw';

// Every secret set to a marker value, then a full run: a job stored to S3 (versitygw), an
// api job, a failure with its screenshot and trace, a signed webhook to a callbackUrl with a
// token in its query. No marker may show in the logs, the console's pages, the workflow
// histories, the artifacts or any message the database keeps (src/shared/secrets.ts).

const MARK = 'MARKER7q';
const markers = {
  WEBHOOK_SECRET: `${MARK}-webhook-secret`,
  WEB_TOKEN: `${MARK}-web-token-0123456789`,
  XAI_API_KEY: `${MARK}-xai-api-key`,
  DATABASE_URL_PASSWORD: `${MARK}-db-password`,
};
const CALLBACK_TOKEN = `${MARK}-callback-query-token`;

/** Each marker found in `text`, by name. */
function found(text: string, values: Record<string, string>): string[] {
  return Object.entries(values).filter(([, v]) => text.includes(v)).map(([k]) => k);
}

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name));
}

describe('secrets: no marker leaves a full run', () => {
  let s: Stack;
  let gw: Versitygw;
  let receiver: Receiver;
  let web: WebConsole;
  let logFile: string;
  let all: Record<string, string>;

  before(async () => {
    gw = await startVersitygw();
    receiver = await startReceiver();
    const simPort = await freeLoopbackPort();
    logFile = path.join(fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'grokflow-secrets-')), 'log.jsonl');
    s = await startStack({
      simulator: { port: simPort, xai: { apiKeys: [markers.XAI_API_KEY] } },
      env: {
        ...gw.env('secrets'),
        WEBHOOK_SECRET: markers.WEBHOOK_SECRET,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        WEB_TOKEN: markers.WEB_TOKEN,
        XAI_API_KEY: markers.XAI_API_KEY,
        XAI_BASE_URL: `http://127.0.0.1:${simPort}/v1`,
        XAI_POLL_INTERVAL_MS: '200',
        PLAYWRIGHT_TRACE: 'true',
        LOG_LEVEL: 'debug',
      },
      // Postgres here trusts loopback, so any password connects; it must still never show.
      databasePassword: markers.DATABASE_URL_PASSWORD,
      logger: (config) => createLogger(config, {}, pino.destination({ dest: logFile, sync: true })),
    });
    all = {
      ...markers,
      AWS_SECRET_ACCESS_KEY: gw.secretKey,
      // A saved login: the session cookie of the simulator's storage state.
      STORAGE_STATE_COOKIE: s.simulator.storageState('default').cookies[0]!.value,
      STORAGE_STATE_COOKIE_BOB: s.simulator.storageState('bob').cookies[0]!.value,
    };
    web = await startWeb(s.config, { db: s.t.db, logger: createLogger(s.config, {}, pino.destination({ dest: logFile, sync: true })), temporal: async () => s.env.client }, 0);
  });
  after(async () => {
    await web?.close();
    await s?.stop();
    await receiver?.close();
    await gw?.stop();
  });

  test('the scrubber hides every secret value, URL passwords and callbackUrl query values', () => {
    const scrub = secretScrubber({ WEBHOOK_SECRET: 'whsec-1234', DATABASE_URL: 'postgres://u:p%40ss-word@h/db', SIMULATOR_USERS: 'a:secret' });
    assert.equal(scrub('sig whsec-1234 and "whsec-1234"'), 'sig [redacted] and "[redacted]"');
    assert.equal(scrub('connect postgres://u:p%40ss-word@h/db failed; p@ss-word'), 'connect postgres://u:[redacted]@h/db failed; [redacted]');
    assert.equal(scrub('https://x:any@example.com/a'), 'https://x:[redacted]@example.com/a');
    assert.equal(scrub('{"callbackUrl":"https://h/cb?token=abc&x=1#frag"}'), '{"callbackUrl":"https://h/cb?token=***&x=***#***"}');
    assert.equal(scrub('a secret garden'), 'a secret garden', 'the simulator\'s made-up passwords are no secret');
  });

  test('a job to S3, an api job, a failure with screenshot and trace, a webhook: no marker in logs, pages, histories, artifacts or messages', async () => {
    const callbackUrl = `${receiver.url}/hook?token=${CALLBACK_TOKEN}`;
    const post = s.simulator.createPost('default');
    const stored = await s.insertJob({ imageUrl: post.url, prompt: 'a harbour at dawn', callbackUrl });
    const api = await s.insertJob({ prompt: 'a lantern', backend: 'api', callbackUrl }, 'GROK_IMAGE_GENERATION');
    const failed = await s.insertJob({ prompt: 'a castle #sim:expired', account: 'bob', callbackUrl });
    const ends = await Promise.all([stored, api, failed].map((id) => s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000)));
    assert.deepEqual(ends.map((j) => j.status), ['COMPLETED', 'COMPLETED', 'ERROR'], ends.map((j) => j.errorMessage).join(' | '));
    assert.ok((await gw.objects('secrets')).length >= 1, 'stored to S3');
    const hooks = await receiver.until(3, `/hook?token=${CALLBACK_TOKEN}`, 120_000);
    assert.ok(hooks.every((h) => h.headers['x-grokflow-signature']), 'signed');
    const artifacts = filesUnder(s.config.ARTIFACTS_DIR);
    assert.ok(artifacts.some((f) => f.endsWith('screenshot.png')), `a screenshot: ${artifacts.join(', ')}`);
    assert.ok(artifacts.some((f) => f.endsWith('trace.zip')), `a trace: ${artifacts.join(', ')}`);

    // Logs (master, slave, console), with a callbackUrl logged in full on purpose.
    createLogger(s.config, {}, pino.destination({ dest: logFile, sync: true })).warn({ callbackUrl, config: s.config, err: new Error(`could not reach ${s.config.DATABASE_URL}`) }, 'a careless line');
    const logs = fs.readFileSync(logFile, 'utf8');
    assert.ok(logs.length > 1000 && logs.includes('a careless line'), 'the logs were captured');
    assert.deepEqual(found(logs, { ...all, CALLBACK_TOKEN }), [], 'logs');

    // Pages, as a logged-in script reads them.
    const pages = ['/', '/accounts', ...[stored, api, failed].map((id) => `/jobs/${id}`)];
    for (const p of pages) {
      const res = await fetch(`${web.url}${p}`, { headers: { authorization: `Bearer ${markers.WEB_TOKEN}` } });
      assert.equal(res.status, 200, p);
      const text = await res.text();
      assert.deepEqual(found(text, { ...all, CALLBACK_TOKEN }), [], p);
      if (p.startsWith('/jobs/')) assert.match(text, /hook\?token=\*\*\*/, `${p}: the callbackUrl is shown masked`);
    }

    // Histories: every workflow of the namespace.
    let histories = '';
    for await (const wf of s.env.client.workflow.list()) {
      histories += JSON.stringify(await s.env.client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory());
    }
    assert.ok(histories.includes('generateItem'), 'the histories were read');
    assert.deepEqual(found(histories, all), [], 'histories');

    // Artifacts: the files, and inside every trace.
    for (const f of artifacts) {
      const bytes = fs.readFileSync(f);
      assert.deepEqual(found(bytes.toString('latin1'), all), [], f);
      if (f.endsWith('.zip')) {
        for (const [name, entry] of Object.entries(unzipSync(bytes))) assert.deepEqual(found(strFromU8(entry, true), all), [], `${f}: ${name}`);
      }
    }

    // What the database keeps as messages: errors, events, deliveries.
    const messages = await s.t.pool.query(`
      SELECT json_agg(x)::text AS t FROM (
        SELECT error_message AS m, progress_message AS p FROM jobs
        UNION ALL SELECT error, NULL FROM job_items
        UNION ALL SELECT detail::text, NULL FROM job_events
        UNION ALL SELECT row_to_json(d)::text, NULL FROM job_deliveries d
      ) x`);
    assert.deepEqual(found(messages.rows[0].t ?? '', all), [], 'database messages');
  });
});
