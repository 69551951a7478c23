import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { imageDataUri, XaiClient, type VideoState } from '../src/backends/api/client';
import { XaiError } from '../src/backends/api/errors';
import { xaiTarget } from '../src/backends/api/target';
import { loadConfig } from '../src/shared/config';
import { freeLoopbackPort } from '../src/shared/freePort';
import { startSimulator, type Simulator } from '../src/simulator/server';

// The xAI client against the simulator's stand-in of the API, over real HTTP: every answer
// the API backend acts on (done, moderated, expired, failed, 401, 429 + Retry-After, 400, 5xx,
// a refused connection, an expired file URL), and the key in no message and no log line.

const GENERATION_MS = 400;
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

async function rejection(p: Promise<unknown>): Promise<XaiError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof XaiError, `not an XaiError: ${String(err)}`);
    return err;
  }
  return assert.fail('resolved, expected an XaiError');
}

/** Polls until the request is no longer pending; returns every state seen. */
async function settle(client: XaiClient, id: string): Promise<VideoState[]> {
  const seen: VideoState[] = [];
  for (let i = 0; i < 200; i++) {
    const s = await client.videoState(id);
    seen.push(s);
    if (s.status !== 'pending') return seen;
    await new Promise((r) => setTimeout(r, 50));
  }
  return assert.fail(`request ${id} still pending after 200 polls`);
}

describe('xAI client against the stand-in', () => {
  let sim: Simulator;
  let client: XaiClient;
  let dir: string;
  const logLines: string[] = [];
  const settings = () => ({ baseUrl: sim.xai.baseUrl, apiKey: sim.xai.apiKey, videoModel: 'grok-imagine-video', imageModel: 'grok-imagine-image' });

  before(async () => {
    sim = await startSimulator({ generationMs: GENERATION_MS, xai: { urlTtlMs: 1500 } });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'grokflow-xai-'));
    const sink = new Writable({ write(chunk, _enc, done) { logLines.push(String(chunk)); done(); } });
    client = new XaiClient({ ...settings(), logger: pino({ level: 'debug' }, sink) });
  });
  after(async () => {
    await sim.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a video: a request id at once, pending with progress, then done with URL, length and cost; the file downloads whole', async () => {
    const id = await client.submitVideo({ prompt: 'a red fox in snow', duration: 6, aspectRatio: '16:9', resolution: '720p' });
    assert.match(id, /^[0-9a-f-]{36}$/);
    const seen = await settle(client, id);
    const pending = seen.filter((s) => s.status === 'pending');
    assert.ok(pending.length >= 1, 'seen pending before done');
    assert.ok(pending.every((s) => s.status === 'pending' && typeof s.progress === 'number' && s.progress < 100));
    const done = seen.at(-1)!;
    assert.equal(done.status, 'done');
    if (done.status !== 'done') return;
    assert.equal(done.moderated, false);
    assert.equal(done.durationS, 6);
    assert.equal(done.costTicks, 6 * 700_000_000, 'xAI\'s cost at 720p ($0.07/s), in ticks, kept exact');
    const file = path.join(dir, 'fox.mp4');
    const got = await client.download(done.url, file);
    const expected = sim.asset('generated_video.mp4');
    assert.equal(got.bytes, expected.length);
    assert.equal(got.sha256, sha(expected));
    assert.equal(sha(fs.readFileSync(file)), got.sha256);
    assert.equal(sim.xai.downloads(id), 1);
    assert.equal(sim.xai.requests.get(id)?.resolution, '720p');
    assert.equal(sim.xai.accepted('a red fox in snow').length, 1, 'one submission');
  });

  test('image-to-video from a local file as a data: URI, then an extension of the done video', async () => {
    const imagePath = path.join(dir, 'start.jpg');
    fs.writeFileSync(imagePath, sim.asset('image.jpg'));
    const uri = await imageDataUri(imagePath);
    assert.match(uri, /^data:image\/jpeg;base64,/);
    const id = await client.submitVideo({ prompt: 'the cat wakes up', image: uri, duration: 10 });
    assert.equal(sim.xai.requests.get(id)?.image, 'data');
    const done = (await settle(client, id)).at(-1)!;
    assert.equal(done.status, 'done');
    if (done.status !== 'done') return;

    const ext = await client.submitExtension({ prompt: 'the cat jumps', videoUrl: done.url, duration: 5 });
    const extended = (await settle(client, ext)).at(-1)!;
    assert.equal(extended.status, 'done');
    if (extended.status !== 'done') return;
    assert.equal(extended.durationS, 15, 'the extension adds its seconds to the video it extends');
    assert.equal(extended.costTicks, 5 * 500_000_000, 'an extension costs its own seconds');
    assert.equal(sim.xai.accepted('the cat jumps', 'videos/extensions').length, 1);
    await assert.rejects(imageDataUri(path.join(dir, 'notes.txt')), /imagePath .*notes\.txt: not an image/);
  });

  test('xAI\'s limits, refused with its 400 messages: an 11 s extension, an extension of a 1.5 model, 1080p on grok-imagine-video, an edit of more than 8.7 s', async () => {
    const id = await client.submitVideo({ prompt: 'a source of 15 s', duration: 15 });
    const done = (await settle(client, id)).at(-1)!;
    assert.equal(done.status, 'done');
    if (done.status !== 'done') return;
    const refused = async (p: Promise<unknown>, re: RegExp) => {
      const err = await rejection(p);
      assert.equal(err.kind, 'invalidInput');
      assert.equal(err.status, 400);
      assert.match(err.message, re);
    };
    await refused(client.submitExtension({ prompt: 'too long', videoUrl: done.url, duration: 11 }), /duration: 11 is not an integer from 2 to 10/);
    await refused(client.submitExtension({ prompt: 'on 1.5', model: 'grok-imagine-video-1.5', videoUrl: done.url, duration: 6 }), /does not support video extension/);
    await refused(client.submitVideo({ prompt: 'sharp', resolution: '1080p' }), /resolution: "1080p" is not supported by grok-imagine-video/);
    await refused(client.submitEdit({ prompt: 'recolour', videoUrl: done.url }), /the input video is 15 s; at most 8\.7 s can be edited/);
    const ext = await client.submitExtension({ prompt: 'ten more', videoUrl: done.url, duration: 10 });
    const extended = (await settle(client, ext)).at(-1)!;
    assert.equal(extended.status === 'done' && extended.durationS, 25);
    if (extended.status !== 'done') return;
    await refused(client.submitExtension({ prompt: 'a third', videoUrl: extended.url, duration: 2 }), /the input video is 25 s; it must be between 2 and 15 seconds/);
    const sharp = await client.submitVideo({ prompt: 'sharp on 1.5', model: 'grok-imagine-video-1.5', resolution: '1080p', duration: 6 });
    const sharpDone = (await settle(client, sharp)).at(-1)!;
    assert.equal(sharpDone.status === 'done' && sharpDone.costTicks, 6 * 2_000_000_000, '1080p on 1.5 at $0.20/s');
  });

  test('images: synchronous, one URL each, downloaded whole', async () => {
    const r = await client.generateImages({ prompt: 'a lighthouse at dusk', n: 2 });
    assert.equal(r.urls.length, 2);
    assert.equal(r.moderated, false);
    assert.equal(r.costTicks, 2 * 200_000_000, 'xAI\'s usage.cost_in_usd_ticks: two images at $0.02');
    assert.deepEqual(r.moderatedEach, [false, false]);
    const got = await client.download(r.urls[1]!, path.join(dir, 'lighthouse.jpg'));
    assert.equal(got.sha256, sha(sim.asset('image.jpg')));
    assert.equal(got.contentType, 'image/jpeg');
  });

  test('moderated (respect_moderation false), expired and failed requests are states, not errors', async () => {
    const mod = (await settle(client, await client.submitVideo({ prompt: 'something forbidden #sim:moderate' }))).at(-1)!;
    assert.deepEqual([mod.status, mod.status === 'done' && mod.moderated], ['done', true]);
    const expired = (await settle(client, await client.submitVideo({ prompt: 'too late #sim:expired' }))).at(-1)!;
    assert.equal(expired.status, 'expired');
    const failed = (await settle(client, await client.submitVideo({ prompt: 'broken #sim:failed' }))).at(-1)!;
    assert.deepEqual(failed, { status: 'failed', message: 'Video generation failed', code: 'generation_failed' });
    // moderate=1: the first try is refused, the second passes.
    const first = (await settle(client, await client.submitVideo({ prompt: 'borderline #sim:moderate=1' }))).at(-1)!;
    const second = (await settle(client, await client.submitVideo({ prompt: 'borderline #sim:moderate=1' }))).at(-1)!;
    assert.deepEqual([first.status === 'done' && first.moderated, second.status === 'done' && second.moderated], [true, false]);
    const image = await client.generateImages({ prompt: 'forbidden picture #sim:moderate' });
    assert.equal(image.moderated, true);
  });

  test('a wrong key is "API key rejected" (authRequired), and the key is in no message and no log line', async () => {
    const secret = `xai-${crypto.randomBytes(16).toString('hex')}`;
    const wrong = new XaiClient({ ...settings(), apiKey: secret, logger: pino({ level: 'debug' }, new Writable({ write(c, _e, d) { logLines.push(String(c)); d(); } })) });
    for (const call of [
      () => wrong.submitVideo({ prompt: 'a fox' }),
      () => wrong.submitExtension({ prompt: 'more', videoUrl: 'http://example.test/v.mp4' }),
      () => wrong.videoState('0b0b0b0b-0000-4000-8000-000000000000'),
      () => wrong.generateImages({ prompt: 'a fox' }),
    ]) {
      const err = await rejection(call());
      assert.equal(err.kind, 'authRequired');
      assert.equal(err.status, 401);
      assert.equal(err.retryable, false);
      assert.match(err.message, /^API key rejected \(HTTP 401: Incorrect API key provided: \[redacted\]/, 'the stand-in echoes the key; the client blanks it');
      assert.ok(!err.message.includes(secret) && !(err.stack ?? '').includes(secret));
    }
    assert.ok(logLines.length > 0, 'the client logged its calls');
    assert.ok(logLines.every((l) => !l.includes(secret) && !l.includes(sim.xai.apiKey)), 'no key in any log line');
  });

  test('a key revoked while a request runs: the next poll is authRequired', async () => {
    const key = `xai-${crypto.randomBytes(8).toString('hex')}`;
    sim.xai.keys.add(key);
    const own = new XaiClient({ ...settings(), apiKey: key });
    const id = await own.submitVideo({ prompt: 'a slow river #sim:slow=5' });
    assert.equal((await own.videoState(id)).status, 'pending');
    sim.xai.revokeKey(key);
    assert.equal((await rejection(own.videoState(id))).kind, 'authRequired');
  });

  test('429: rateLimited with Retry-After in ms, retryable; the next submission is accepted', async () => {
    const err = await rejection(client.submitVideo({ prompt: 'busy hour #sim:ratelimit=2' }));
    assert.equal(err.kind, 'rateLimited');
    assert.equal(err.status, 429);
    assert.equal(err.retryAfterMs, 2000);
    assert.equal(err.retryable, true);
    assert.match(await client.submitVideo({ prompt: 'busy hour #sim:ratelimit=2' }), /^[0-9a-f-]{36}$/);
    assert.deepEqual(sim.xai.submissions.filter((s) => s.prompt === 'busy hour').map((s) => s.status), [429, 200]);
  });

  test('400: invalidInput naming xAI\'s message, not retryable', async () => {
    const cases: Array<[Promise<unknown>, RegExp]> = [
      [client.submitVideo({ prompt: 'too long', duration: 20 }), /duration: 20 is not an integer from 1 to 15/],
      [client.submitVideo({ prompt: 'odd shape', aspectRatio: '5:4' }), /aspect_ratio: "5:4" is not one of/],
      [client.submitVideo({ prompt: 'no image', image: 'file:///etc/passwd' }), /image\.url: must be an http\(s\) URL or a data:image/],
      [client.submitExtension({ prompt: 'nothing to extend', videoUrl: 'not a url' }), /video\.url: required/],
      [client.generateImages({ prompt: 'weird #sim:invalid' }), /the prompt could not be processed/],
      [new XaiClient({ ...settings(), videoModel: 'grok-imagine-vidoe' }).submitVideo({ prompt: 'typo' }), /Model "grok-imagine-vidoe" does not exist/],
    ];
    for (const [call, message] of cases) {
      const err = await rejection(call);
      assert.equal(err.kind, 'invalidInput', err.message);
      assert.equal(err.retryable, false);
      assert.match(err.message, /xAI refused the .* \(HTTP 400\): /);
      assert.match(err.message, message);
    }
  });

  test('5xx, a failed poll and a refused connection are unavailable (retryable)', async () => {
    const err = await rejection(client.submitVideo({ prompt: 'flaky #sim:error' }));
    assert.deepEqual([err.kind, err.status, err.retryable], ['unavailable', 500, true]);
    assert.match(err.message, /xAI video generation failed with HTTP 500/);
    const id = await client.submitVideo({ prompt: 'flaky #sim:error' });
    const pollErr = await rejection(client.videoState(await client.submitVideo({ prompt: 'shaky poll #sim:pollerror' })));
    assert.deepEqual([pollErr.kind, pollErr.status], ['unavailable', 503]);
    assert.equal((await client.videoState(id)).status, 'pending');

    const closed = await freeLoopbackPort();
    const nowhere = new XaiClient({ ...settings(), baseUrl: `http://127.0.0.1:${closed}/v1` });
    const refused = await rejection(nowhere.submitVideo({ prompt: 'anyone there?' }));
    assert.equal(refused.kind, 'unavailable');
    assert.match(refused.message, /ECONNREFUSED/);
  });

  test('an unknown request id is notFound; an unexpected body is unexpected', async () => {
    const err = await rejection(client.videoState('0b0b0b0b-0000-4000-8000-000000000000'));
    assert.deepEqual([err.kind, err.status], ['notFound', 404]);
    // The simulator's own pages are not xAI's API: a 200 with HTML is refused by the schema.
    const wrongBase = new XaiClient({ ...settings(), baseUrl: `${sim.url}/imagine#` });
    const odd = await rejection(wrongBase.videoState('x'));
    assert.equal(odd.kind, 'unexpected');
    assert.match(odd.message, /answered a body grokflow does not know/);
  });

  test('a file URL is temporary: once expired, the download is notFound and leaves no file', async () => {
    const done = (await settle(client, await client.submitVideo({ prompt: 'a fleeting comet' }))).at(-1)!;
    assert.equal(done.status, 'done');
    if (done.status !== 'done') return;
    await new Promise((r) => setTimeout(r, 1600));
    const target = path.join(dir, 'comet.mp4');
    const err = await rejection(client.download(done.url, target));
    assert.equal(err.kind, 'notFound');
    assert.match(err.message, /expired/);
    assert.equal(fs.existsSync(target), false);
    assert.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.part')), []);
  });

  test('an abort stops a call with the signal\'s reason', async () => {
    const ac = new AbortController();
    const call = client.generateImages({ prompt: 'a slow painting #sim:slow=5' }, ac.signal);
    setTimeout(() => ac.abort(new Error('stop now')), 100);
    await assert.rejects(call, /stop now/);
  });
});

describe('xAI settings', () => {
  test('no XAI_API_KEY: the stand-in at the simulator with its key; a key: XAI_BASE_URL', () => {
    const standIn = xaiTarget(loadConfig({ SIMULATOR_PORT: '4555' }));
    assert.deepEqual(standIn, { baseUrl: 'http://127.0.0.1:4555/v1', apiKey: 'xai-simulator-key', simulated: true });
    const real = xaiTarget(loadConfig({ XAI_API_KEY: 'xai-abc' }));
    assert.deepEqual(real, { baseUrl: 'https://api.x.ai/v1', apiKey: 'xai-abc', simulated: false });
    assert.equal(loadConfig({}).GROK_BACKEND, 'browser');
    assert.throws(() => loadConfig({ GROK_BACKEND: 'carrier-pigeon' }), /GROK_BACKEND/);
    assert.throws(() => loadConfig({ XAI_VIDEO_PRICES: 'grok-imagine-video:4k=1' }), /XAI_VIDEO_PRICES/);
  });

  test('the logger redacts the key under apiKey and XAI_API_KEY', async () => {
    const secret = 'xai-should-never-show';
    const code = `const { createLogger } = require('./src/shared/logger');
      const log = createLogger({ LOG_LEVEL: 'info', LOG_PRETTY: false });
      log.info({ apiKey: '${secret}', config: { XAI_API_KEY: '${secret}' }, client: { apiKey: '${secret}' } }, 'settings');`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', code], { cwd: path.join(__dirname, '..') });
    assert.match(stdout, /"msg":"settings"/);
    assert.ok(!stdout.includes(secret), stdout);
    assert.equal(stdout.match(/\[redacted\]/g)?.length, 3);
  });
});
