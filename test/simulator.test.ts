import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright';
import { CHROMIUM_ARGS, chromiumSandbox, findChromium } from '../src/shared/chromium';
import { parseScenario } from '../src/simulator/scenarios';
import { startSimulator, type Simulator } from '../src/simulator/server';
import { waitFor } from './helpers/wait';

// The simulator on its own: markers, sessions, media access, the REST flow the page drives,
// and (in Chromium) that its MP4s really play.

describe('scenario markers', () => {
  it('parses and strips every marker', () => {
    const r = parseScenario('a cat #sim:moderate=2 on a #sim:slow=1.5 boat #sim:netdrop');
    assert.equal(r.prompt, 'a cat on a boat');
    assert.equal(r.scenario.moderate, 2);
    assert.equal(r.scenario.slowMs, 1500);
    assert.equal(r.scenario.netdrop, true);
    assert.equal(r.scenario.stuck, false);
    assert.equal(parseScenario('#sim:moderate x').scenario.moderate, Infinity);
    const all = parseScenario('#sim:ratelimit #sim:expired #sim:stuck #sim:error #sim:ab #sim:unknown y').scenario;
    assert.deepEqual([all.ratelimit, all.expired, all.stuck, all.error, all.ab], [true, true, true, true, true]);
    assert.equal(parseScenario('#sim:unknown y').prompt, 'y');
  });
});

describe('simulator over HTTP', () => {
  let sim: Simulator;
  let cookie: string;
  const get = (p: string, headers: Record<string, string> = {}) => fetch(sim.url + p, { headers, redirect: 'manual' });
  const post = (p: string, body: unknown, c = cookie) =>
    fetch(sim.url + p, { method: 'POST', headers: { cookie: c, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  /** Reads a generation's NDJSON stream to its end; returns the events (or 'dropped'). */
  async function events(generationId: string, c = cookie): Promise<Array<Record<string, unknown>> | 'dropped'> {
    try {
      const res = await get(`/rest/imagine/generations/${generationId}/stream`, { cookie: c });
      const text = await res.text();
      return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return 'dropped';
    }
  }
  async function generate(prompt: string, postId: string, c = cookie) {
    const res = await post('/rest/imagine/generate', { postId, prompt, duration: '10s', resolution: '720p' }, c);
    const body = (await res.json()) as { generationId?: string; message?: string };
    return { status: res.status, body };
  }

  before(async () => {
    sim = await startSimulator({ generationMs: 300, cooldownMs: 60_000, users: [{ name: 'bob', password: 'pw' }, { name: 'eve', password: 'pw' }] });
    const c = sim.createSession('bob');
    cookie = `${c.name}=${c.value}`;
  });
  after(async () => {
    await sim?.close();
  });

  it('without a session: the login wall; with one: the post page', async () => {
    const p = sim.createPost('bob');
    const wall = await (await get(`/imagine/post/${p.postId}`)).text();
    assert.match(wall, />Sign in</);
    assert.match(wall, />Sign up</);
    assert.doesNotMatch(wall, /Make a video/);
    const page = await (await get(`/imagine/post/${p.postId}`, { cookie })).text();
    assert.match(page, /aria-label="Make a video"/);
    assert.match(page, /placeholder="Type to customize video\.\.\."/);
    assert.match(page, /aria-label="Video Options"/);
    assert.match(page, />Make video</);
  });

  it('the sign-in form sets an HttpOnly session cookie; a wrong password does not', async () => {
    const bad = await fetch(`${sim.url}/sign-in`, { method: 'POST', body: new URLSearchParams({ username: 'bob', password: 'nope' }), redirect: 'manual' });
    assert.equal(bad.status, 401);
    assert.equal(bad.headers.get('set-cookie'), null);
    const ok = await fetch(`${sim.url}/sign-in`, { method: 'POST', body: new URLSearchParams({ username: 'bob', password: 'pw', next: '/imagine' }), redirect: 'manual' });
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get('location'), '/imagine');
    assert.match(ok.headers.get('set-cookie') ?? '', /^sso=[^;]+; Path=\/; HttpOnly/);
  });

  it('a generation streams a climbing percentage, then a video served only to its owner, with ranges', async () => {
    const p = sim.createPost('bob');
    const g = await generate('a kite #sim:slow=0.5', p.postId);
    assert.equal(g.status, 200);
    const evs = await events(g.body.generationId!);
    assert.notEqual(evs, 'dropped');
    const list = evs as Array<Record<string, unknown>>;
    const pcts = list.filter((e) => e.type === 'progress').map((e) => e.progress as number);
    assert.ok(pcts.length >= 3, 'several progress events');
    for (let i = 1; i < pcts.length; i++) assert.ok(pcts[i]! > pcts[i - 1]!);
    assert.equal(pcts.at(-1), 100);
    const done = list.at(-1)!;
    assert.equal(done.type, 'done');
    const url = (done.video as { url: string }).url;
    assert.match(url, /^\/users\/[0-9a-f-]+\/generated\/[0-9a-f-]+\/generated_video\.mp4$/);
    assert.equal((await get(url)).status, 401, 'no cookie, no video');
    const eve = sim.createSession('eve');
    assert.equal((await get(url, { cookie: `sso=${eve.value}` })).status, 403, 'another account, no video');
    const full = await get(url, { cookie });
    assert.equal(full.status, 200);
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), sim.asset('generated_video.mp4'));
    const part = await get(url, { cookie, range: 'bytes=0-99' });
    assert.equal(part.status, 206);
    assert.equal((await part.arrayBuffer()).byteLength, 100);
    assert.equal(sim.generations.at(-1)!.prompt, 'a kite');
    // The post page now shows the video and "Redo".
    const page = await (await get(`/imagine/post/${p.postId}`, { cookie })).text();
    assert.match(page, /<video id="sd-video"/);
    assert.match(page, />Redo</);
  });

  it('moderate=N is deterministic per post and prompt', async () => {
    const p = sim.createPost('bob');
    const kinds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const g = await generate('hm #sim:moderate=2', p.postId);
      const evs = (await events(g.body.generationId!)) as Array<Record<string, unknown>>;
      kinds.push(evs.at(-1)!.type as string);
    }
    assert.deepEqual(kinds, ['moderated', 'moderated', 'done']);
  });

  it('netdrop drops the stream once; the retry completes', async () => {
    const p = sim.createPost('bob');
    const first = await generate('w #sim:netdrop', p.postId);
    assert.equal(await events(first.body.generationId!), 'dropped');
    const second = await generate('w #sim:netdrop', p.postId);
    const evs = (await events(second.body.generationId!)) as Array<Record<string, unknown>>;
    assert.equal(evs.at(-1)!.type, 'done');
  });

  it('ratelimit answers 429 with the waiting time and keeps the account cooling down', async () => {
    const p = sim.createPost('eve');
    const eve = sim.createSession('eve');
    const c = `sso=${eve.value}`;
    const r = await generate('x #sim:ratelimit', p.postId, c);
    assert.equal(r.status, 429);
    assert.match(r.body.message!, /^Rate limit reached\. Try again in 60 seconds\.$/);
    assert.equal((await generate('plain', p.postId, c)).status, 429);
  });

  it('expired logs the session out', async () => {
    sim.addUser('carol', 'pw');
    const s = sim.createSession('carol');
    const c = `sso=${s.value}`;
    const p = sim.createPost('carol');
    assert.equal((await generate('x #sim:expired', p.postId, c)).status, 401);
    assert.match(await (await get(`/imagine/post/${p.postId}`, { cookie: c })).text(), />Sign in</);
  });

  it('upscale makes the HD file appear; delete makes the video disappear', async () => {
    const p = sim.createPost('bob');
    const g = await generate('up', p.postId);
    const evs = (await events(g.body.generationId!)) as Array<Record<string, unknown>>;
    const v = evs.at(-1)!.video as { videoId: string; url: string };
    const hdUrl = v.url.replace('generated_video.mp4', 'generated_video_hd.mp4');
    assert.equal((await get(hdUrl, { cookie })).status, 404);
    assert.equal((await post(`/rest/imagine/videos/${v.videoId}/upscale`, {})).status, 200);
    await new Promise((r) => setTimeout(r, 250));
    const hd = await get(hdUrl, { cookie });
    assert.equal(hd.status, 200);
    assert.deepEqual(Buffer.from(await hd.arrayBuffer()), sim.asset('generated_video_hd.mp4'));
    const del = await fetch(`${sim.url}/rest/imagine/videos/${v.videoId}`, { method: 'DELETE', headers: { cookie } });
    assert.equal(del.status, 200);
    assert.equal((await get(v.url, { cookie })).status, 404);
  });

  it('the stuck scenario stops below 100 % and never ends', async () => {
    const p = sim.createPost('bob');
    const g = await generate('s #sim:stuck', p.postId);
    const ac = new AbortController();
    const res = await fetch(`${sim.url}/rest/imagine/generations/${g.body.generationId}/stream`, { headers: { cookie }, signal: ac.signal });
    const reader = res.body!.getReader();
    let text = '';
    let ended = false;
    const progress = () => Math.max(-1, ...text.split('\n').filter((l) => l.includes('progress')).map((l) => (JSON.parse(l) as { progress: number }).progress));
    const read = async () => {
      const r = await Promise.race([reader.read(), new Promise<null>((res2) => setTimeout(() => res2(null), 200))]);
      if (r && !r.done) text += Buffer.from(r.value).toString();
      if (r?.done) ended = true;
    };
    // Until it stops (a loaded machine streams slower than the clock), then a while longer.
    await waitFor(() => `the stuck stream to reach 87 %, at ${progress()} %`, async () => { await read(); return ended || progress() >= 87; }, 30_000, 0);
    for (const until = Date.now() + 600; Date.now() < until && !ended;) await read();
    ac.abort();
    assert.equal(ended, false, 'a stuck stream ended');
    assert.equal(progress(), 87);
    assert.equal(sim.generations.at(-1)!.outcome, 'stuck');
  });
});

describe('simulator assets in Chromium', () => {
  let sim: Simulator;
  let browser: Browser;
  before(async () => {
    sim = await startSimulator({ generationMs: 300 });
    browser = await chromium.launch({ executablePath: findChromium(process.env.CHROMIUM_PATH), args: CHROMIUM_ARGS, chromiumSandbox: chromiumSandbox(), headless: true });
  });
  after(async () => {
    await browser?.close();
    await sim?.close();
  });

  for (const hd of [false, true]) {
    it(`the ${hd ? 'HD' : 'SD'} MP4 plays (readyState >= 2, duration > 0)`, async () => {
      const ctx = await browser.newContext({ storageState: sim.storageState('default') });
      const page = await ctx.newPage();
      const p = sim.createPost('default');
      await page.goto(p.url);
      await page.getByRole('textbox', { name: 'Make a video' }).fill('play');
      await page.getByRole('button', { name: 'Make video' }).click();
      await page.locator('#sd-video').waitFor();
      if (hd) {
        await page.getByRole('button', { name: 'More options' }).click();
        await page.getByRole('menuitem', { name: 'Upscale video' }).click();
        await page.getByText('HD', { exact: true }).waitFor();
      }
      const info = await page.waitForFunction(
        (wantHd) => {
          const v = document.querySelector('#sd-video') as HTMLVideoElement | null;
          if (!v || v.readyState < 2 || !(v.duration > 0)) return null;
          if (wantHd !== v.currentSrc.includes('_hd')) return null;
          return { rs: v.readyState, d: v.duration, w: v.videoWidth };
        },
        hd,
        { timeout: 10_000 },
      );
      const val = (await info.jsonValue())!;
      assert.ok(val.rs >= 2);
      assert.ok(val.d > 3 && val.d < 5);
      assert.equal(val.w, hd ? 1280 : 480);
      await ctx.close();
    });
  }

  it('UI drift keeps roles, labels and texts but changes ids, classes and order', async () => {
    const drifted = await startSimulator({ uiVariant: 'drift' });
    try {
      const c = drifted.createSession('default');
      const p = drifted.createPost('default');
      const a = await (await fetch(`${sim.url}/imagine/post/${sim.createPost('default').postId}`, { headers: { cookie: `sso=${sim.createSession('default').value}` } })).text();
      const b = await (await fetch(p.url, { headers: { cookie: `sso=${c.value}` } })).text();
      for (const s of ['aria-label="Make a video"', 'aria-label="Video Options"', 'aria-label="More options"', '>Make video<']) {
        assert.ok(a.includes(s) && b.includes(s), s);
      }
      assert.match(a, /id="gi-composer"/);
      assert.doesNotMatch(b, /gi-composer/);
      assert.match(b, /contenteditable="true"/);
      assert.ok(b.indexOf('aria-label="Post actions"') < b.indexOf('aria-label="Post media"'), 'blocks reordered');
      assert.ok(a.indexOf('aria-label="Post actions"') > a.indexOf('aria-label="Post media"'));
    } finally {
      await drifted.close();
    }
  });
});
