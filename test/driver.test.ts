import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GenerationOutcome, VideoSuccess } from '../src/backends/browser/driver';
import { TEXTS } from '../src/backends/browser/selectors';
import { UI_VARIANTS } from '../src/simulator/variants';
import { DEFAULT_TIMEOUTS } from '../src/backends/browser/driver';
import { PostPage } from '../src/backends/browser/postPage';
import { URLS } from '../src/backends/browser/selectors';
import { FAST_TIMEOUTS, startHarness, type GrokHarness } from './helpers/browser';
import { waitFor } from './helpers/wait';

// The driver against the simulator in a real Chromium, one test per outcome and per
// scenario marker, the whole suite once per UI variant (SIMULATOR_UI_VARIANT: redesigns,
// plain menus, another language, the streamed network transport).

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

function expectSuccess(o: GenerationOutcome): VideoSuccess {
  if (o.kind !== 'success') assert.fail(`expected success, got ${JSON.stringify(o)}`);
  return o;
}

function assertArtifacts(o: GenerationOutcome): void {
  assert.ok(o.kind !== 'success' && o.artifactsDir, 'a failure leaves artifacts');
  const dir = o.artifactsDir!;
  assert.ok(fs.statSync(path.join(dir, 'screenshot.png')).size > 0, 'screenshot saved');
  const html = fs.readFileSync(path.join(dir, 'page.html'), 'utf8');
  assert.match(html, /<html/);
  assert.doesNotMatch(html, /sso=/, 'no cookie in the saved HTML');
}

for (const uiVariant of UI_VARIANTS) {
  describe(`driver against the simulator (variant ${uiVariant})`, { concurrency: 4 }, () => {
    let h: GrokHarness;
    let n = 0;
    /** A fresh simulator account, logged in (accounts keep rate limits apart). */
    const account = () => {
      const name = `u${++n}`;
      h.sim.addUser(name, 'pw');
      return h.loginAccount(name);
    };
    const req = (acct: string, prompt: string, extra: Record<string, unknown> = {}) => {
      const jobId = `job-${crypto.randomUUID()}`;
      return {
        jobId,
        itemIndex: 0,
        account: acct,
        postUrl: h.sim.createPost(acct).url,
        prompt,
        duration: 'max' as const,
        downloadPath: h.downloadPath(jobId),
        ...extra,
      };
    };

    before(async () => {
      h = await startHarness({ uiVariant, cooldownMs: 90_000 });
    });
    after(async () => {
      await h?.close();
    });

    it('success: picks the longest duration, requires a percentage, downloads the served bytes', async () => {
      const acct = account();
      const r = req(acct, 'a red fox running #sim:slow=1');
      const progress: Array<[number, number, string]> = [];
      const o = expectSuccess(await h.driver.generateVideo(r, { onProgress: (c, t, m) => progress.push([c, t, m]) }));
      const served = h.sim.asset('generated_video.mp4');
      const file = fs.readFileSync(r.downloadPath);
      assert.equal(o.bytes, served.length);
      assert.equal(o.sha256, sha(served));
      assert.equal(sha(file), o.sha256);
      assert.equal(o.filePath, r.downloadPath);
      assert.equal(o.hd, false);
      assert.equal(o.reused, false);
      assert.match(o.mediaUrl, /\/users\/[0-9a-f-]+\/generated\/[0-9a-f-]+\/generated_video\.mp4$/);
      assert.equal(o.postUrl, r.postUrl);
      const g = h.sim.generations.filter((x) => x.user === acct);
      assert.equal(g.length, 1);
      assert.equal(g[0]!.duration, '10s', 'max picks 10s over 6s');
      assert.equal(o.duration, '10s', 'the chosen duration is read back');
      assert.equal(o.resolution, '720p', 'the chosen resolution is read back');
      assert.equal(g[0]!.resolution, '720p', 'the highest resolution by default');
      assert.equal(g[0]!.prompt, 'a red fox running', 'markers are stripped');
      assert.equal(g[0]!.videoIds[0], o.videoId);
      assert.ok(progress.some(([, , m]) => /generating \d+%/.test(m)), 'percentages reported');
      assert.ok(progress.every(([, t]) => t === 100));
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] >= progress[i - 1]![0], 'progress never goes back');
      assert.deepEqual(progress.at(-1)!.slice(0, 1), [100]);
      // Every step of the try timed; Grok's own time apart from the driver's.
      for (const step of ['page', 'options', 'prompt', 'submit', 'generation', 'download'] as const) {
        assert.equal(typeof o.steps?.[step], 'number', `step ${step} timed: ${JSON.stringify(o.steps)}`);
      }
      assert.ok(o.steps!.generation! > 0, 'the generation took time');
      assert.equal(o.steps!.upscale, undefined, 'no upscale asked, none timed');
      // What Grok's quota_info said, read once the generation had counted.
      assert.deepEqual(o.quota && { left: o.quota.left, total: o.quota.total }, { left: h.sim.quotaInfo(acct).remainingQueries, total: h.sim.quotaInfo(acct).totalQueries });

      // Idempotency: the same item again downloads nothing and generates nothing.
      const again = expectSuccess(await h.driver.generateVideo(r));
      assert.equal(again.reused, true);
      assert.equal(again.sha256, o.sha256);
      assert.equal(h.sim.generations.filter((x) => x.user === acct).length, 1);
    });

    it('the generation\'s signal holds a few abort listeners at most, whatever the page\'s pace (no waits left behind by a race)', async () => {
      const acct = account();
      const stop = new AbortController();
      let most = 0;
      const sample = setInterval(() => { most = Math.max(most, getEventListeners(stop.signal, 'abort').length); }, 2);
      try {
        expectSuccess(await h.driver.generateVideo(req(acct, 'a heron standing still'), { signal: stop.signal }));
      } finally {
        clearInterval(sample);
      }
      // A page that changes every tick made each look leave its slower waits' listeners behind (Node warns past 10).
      assert.ok(most <= 4, `${most} abort listeners at once on the generation's signal`);
      assert.equal(getEventListeners(stop.signal, 'abort').length, 0, 'none left once it returned');
    });

    it('the window is minimized while Grok generates (not drawn) and restored once it ends', async () => {
      const acct = account();
      const r = req(acct, 'a kite over the dunes #sim:slow=1');
      /** The window state of the page showing this item's post, asked through DevTools. */
      const windowState = async (): Promise<string | undefined> => {
        const browser = await h.driver.browser.current();
        const page = browser?.contexts().flatMap((c) => c.pages()).find((p) => p.url() === r.postUrl);
        if (!page) return undefined;
        const cdp = await page.context().newCDPSession(page);
        try {
          const { windowId } = await cdp.send('Browser.getWindowForTarget');
          return (await cdp.send('Browser.getWindowBounds', { windowId })).bounds.windowState;
        } finally {
          await cdp.detach().catch(() => {});
        }
      };
      const during: Array<Promise<string | undefined>> = [];
      let after: Promise<string | undefined> | undefined;
      const o = expectSuccess(
        await h.driver.generateVideo({ ...r, upscale: true }, {
          onProgress: (_c, _t, m) => {
            if (/generating \d+%/.test(m)) during.push(windowState());
            // Upscaling follows (clicks): the page is still there to be asked.
            if (/downloaded \d+ bytes/.test(m)) after ??= windowState();
          },
        }),
      );
      assert.equal(o.hd, true);
      const states = await Promise.all(during);
      assert.ok(states.length > 0, 'percentages reported');
      assert.ok(states.includes('minimized'), `window states while generating: ${states.join(', ')}`);
      assert.equal(await after, 'normal', 'restored before the clicks that follow (they wait for animation frames)');
    });

    it('explicit duration 6s is honoured', async () => {
      const acct = account();
      expectSuccess(await h.driver.generateVideo(req(acct, 'short clip', { duration: '6s', resolution: '480p' })));
      const g = h.sim.generations.find((x) => x.user === acct)!;
      assert.equal(g.duration, '6s');
      assert.equal(g.resolution, '480p');
    });

    it('a resolution the menu does not offer → failed, not retryable, listing what is offered', async () => {
      const acct = account();
      const o = await h.driver.generateVideo(req(acct, 'too sharp', { resolution: '1080p' }));
      assert.equal(o.kind, 'failed');
      assert.match((o as { reason: string }).reason, /resolution 1080p is not offered \(offered: (480p, 720p|720p, 480p)\)/);
      assert.equal((o as { retryable: boolean }).retryable, false);
      assert.equal(h.sim.generations.filter((x) => x.user === acct).length, 0, 'nothing generated');
    });

    it('mode, aspect ratio and extend: chosen by their text, each extension its own step and file', async () => {
      const acct = account();
      const r = req(acct, 'a long take', { mode: 'fun', aspectRatio: '16:9', extendTo: 25 });
      const steps: string[] = [];
      const o = expectSuccess(await h.driver.generateVideo(r, { onProgress: (_c, _t, m) => steps.push(m) }));
      const g = h.sim.generations.filter((x) => x.user === acct);
      assert.equal(g.length, 3, 'one generation and two extensions of 10 s: 30 s ≥ 25 s');
      assert.deepEqual(g.map((x) => [x.mode, x.aspectRatio, x.duration]), Array(3).fill(['fun', '16:9', '10s']));
      assert.equal(g[1]!.extendVideoId, g[0]!.videoIds[0], 'the first extension continues the first video');
      assert.equal(g[2]!.extendVideoId, g[1]!.videoIds[0]);
      assert.equal(h.sim.video(o.videoId)!.seconds, 30);
      assert.equal(o.lengthS, 30);
      assert.deepEqual(o.files.map((f) => path.basename(f.filePath)), ['video.mp4', 'video-ext1.mp4', 'video-ext2.mp4']);
      for (const f of o.files) assert.equal(sha(fs.readFileSync(f.filePath)), f.sha256);
      assert.equal(o.filePath, o.files[2]!.filePath);
      assert.ok(steps.some((m) => /extension 2\/2 \d+%/.test(m)), 'each extension reports its own progress');
    });

    it('a mode the page does not offer → failed, listing what it offers', async () => {
      const o = await h.driver.generateVideo(req(account(), 'x', { mode: 'wild' }));
      assert.equal(o.kind, 'failed');
      assert.match((o as { reason: string }).reason, /mode wild is not offered \(offered: .*normal.*fun.*spicy.*custom|mode wild is not offered \(offered: .*custom.*spicy.*fun.*normal/);
    });

    it('#sim:moderate → moderated (with artifacts)', async () => {
      const o = await h.driver.generateVideo(req(account(), 'something #sim:moderate'));
      assert.equal(o.kind, 'moderated');
      assert.match((o as { message: string }).message, new RegExp(TEXTS.moderated.source.replace('^\\s*', ''), 'i'), 'the toast text, in the page\'s language');
      assertArtifacts(o);
    });

    it('#sim:moderate=2 → moderated twice on the same post and prompt, then success', async () => {
      const acct = account();
      const r = req(acct, 'a dancing robot #sim:moderate=2');
      assert.equal((await h.driver.generateVideo({ ...r, downloadPath: `${r.downloadPath}.1` })).kind, 'moderated');
      assert.equal((await h.driver.generateVideo({ ...r, downloadPath: `${r.downloadPath}.2` })).kind, 'moderated');
      expectSuccess(await h.driver.generateVideo(r));
    });

    it('#sim:ratelimit → rateLimited with the cooldown read from the message', async () => {
      const acct = account();
      const o = await h.driver.generateVideo(req(acct, 'x #sim:ratelimit'));
      assert.equal(o.kind, 'rateLimited');
      assert.match((o as { message: string }).message, new RegExp(TEXTS.rateLimited.source.replace('^\\s*', ''), 'i'));
      assert.equal((o as { cooldownMs: number }).cooldownMs, 90_000);
      // The account stays limited: the next plain try is limited too.
      const next = await h.driver.generateVideo(req(acct, 'plain'));
      assert.equal(next.kind, 'rateLimited');
    });

    it('#sim:expired → authRequired naming the account; later runs too', async () => {
      const acct = account();
      const o = await h.driver.generateVideo(req(acct, 'x #sim:expired'));
      assert.equal(o.kind, 'authRequired');
      assert.match((o as { message: string }).message, new RegExp(`account ${acct} needs a new login`));
      assertArtifacts(o);
      const next = await h.driver.generateVideo(req(acct, 'plain'));
      assert.equal(next.kind, 'authRequired', 'the login wall on opening the post');
    });

    it('no saved session → authRequired without opening a page', async () => {
      h.sim.addUser('nobody', 'pw');
      const o = await h.driver.generateVideo({ ...req('default', 'x'), account: 'nobody' });
      assert.equal(o.kind, 'authRequired');
      assert.match((o as { message: string }).message, /account nobody needs a new login/);
    });

    it('#sim:netdrop → failed retryable (network), the next try succeeds', async () => {
      const acct = account();
      const r = req(acct, 'waves #sim:netdrop');
      const o = await h.driver.generateVideo(r);
      assert.equal(o.kind, 'failed');
      assert.equal((o as { retryable: boolean }).retryable, true);
      assert.match((o as { reason: string }).reason, /network/);
      assertArtifacts(o);
      assert.ok(!fs.existsSync(r.downloadPath), 'nothing downloaded');
      expectSuccess(await h.driver.generateVideo(r));
    });

    it('#sim:stuck → failed retryable (stuck) after the stuck timeout', async () => {
      const o = await h.driver.generateVideo(req(account(), 'x #sim:stuck'));
      assert.equal(o.kind, 'failed');
      assert.match((o as { reason: string }).reason, /stuck: progress stayed at 87%/);
      // The stuck check, not the 30 s generation timeout ("timeout: generation took over…").
      assert.equal((o as { retryable: boolean }).retryable, true);
    });

    it('#sim:slow=2 → success after the longer generation', async () => {
      const started = Date.now();
      expectSuccess(await h.driver.generateVideo(req(account(), 'slow one #sim:slow=2')));
      assert.ok(Date.now() - started >= 2000, 'waited for the whole generation');
    });

    it('server error toast → failed retryable', async () => {
      const o = await h.driver.generateVideo(req(account(), 'x #sim:error'));
      assert.equal(o.kind, 'failed');
      assert.match((o as { reason: string }).reason, /Server failed to respond/);
      assert.equal((o as { retryable: boolean }).retryable, true);
    });

    it('A/B "Which video do you prefer?" → one is chosen and downloaded', async () => {
      const acct = account();
      const o = expectSuccess(await h.driver.generateVideo(req(acct, 'two takes #sim:ab')));
      const g = h.sim.generations.find((x) => x.user === acct)!;
      assert.equal(g.outcome, 'done', 'the choice was made');
      assert.deepEqual(g.videoIds, [o.videoId]);
    });

    it('upscale → the HD file is downloaded', async () => {
      const r = req(account(), 'make it sharp', { upscale: true });
      const o = expectSuccess(await h.driver.generateVideo(r));
      assert.equal(o.hd, true);
      assert.equal(o.files.length, 2);
      assert.match(o.mediaUrl, /generated_video_hd\.mp4$/);
      assert.equal(o.filePath, r.downloadPath.replace(/\.mp4$/, '_hd.mp4'));
      assert.equal(o.sha256, sha(h.sim.asset('generated_video_hd.mp4')));
      assert.equal(sha(fs.readFileSync(o.filePath)), o.sha256);
      assert.equal(o.files[0]!.sha256, sha(h.sim.asset('generated_video.mp4')));
      assert.equal(h.sim.video(o.videoId)!.hd, true);
      assert.ok(o.steps!.upscale! > 0, `the upscale timed: ${JSON.stringify(o.steps)}`);
    });

    it('deleteAfterDownload → the video is gone on the server, the file is kept', async () => {
      const r = req(account(), 'ephemeral', { deleteAfterDownload: true });
      const o = expectSuccess(await h.driver.generateVideo(r));
      assert.equal(o.deleted, true);
      assert.equal(h.sim.video(o.videoId)!.deleted, true);
      assert.ok(fs.statSync(r.downloadPath).size > 0);
      assert.equal(typeof o.steps!.delete, 'number', `the delete timed: ${JSON.stringify(o.steps)}`);
    });

    it('text → image → video when only a prompt is given', async () => {
      const acct = account();
      const r = req(acct, 'a lighthouse at dusk', { postUrl: undefined });
      const o = expectSuccess(await h.driver.generateVideo(r));
      const kinds = h.sim.generations.filter((x) => x.user === acct).map((x) => x.kind);
      assert.deepEqual(kinds, ['image', 'video']);
      assert.match(o.postUrl, /\/imagine\/post\/[0-9a-f-]{36}$/);
    });

    it('imagePath → upload, then the video', async () => {
      const acct = account();
      const img = path.join(h.dir, `upload-${acct}.jpg`);
      fs.writeFileSync(img, h.sim.asset('image.jpg'));
      const o = expectSuccess(await h.driver.generateVideo(req(acct, 'bring it to life', { postUrl: undefined, imagePath: img })));
      assert.match(o.postUrl, /\/imagine\/post\//);
      assert.deepEqual(h.sim.generations.filter((x) => x.user === acct).map((x) => x.kind), ['video']);
    });

    it('image generation → images downloaded', async () => {
      const acct = account();
      const jobId = `img-${acct}`;
      const o = await h.driver.generateImage({ jobId, itemIndex: 0, account: acct, prompt: 'a teapot', count: 2, downloadPath: h.downloadPath(jobId, 'image.jpg') });
      if (o.kind !== 'success') assert.fail(JSON.stringify(o));
      assert.equal(o.images.length, 2);
      const want = sha(h.sim.asset('image.jpg'));
      for (const im of o.images) {
        assert.equal(im.sha256, want);
        assert.equal(sha(fs.readFileSync(im.filePath)), want);
        assert.match(im.postUrl, /\/imagine\/post\//);
      }
      assert.notEqual(o.images[0]!.filePath, o.images[1]!.filePath);
    });

    it('image generation moderated → moderated', async () => {
      const acct = account();
      const o = await h.driver.generateImage({ jobId: 'imgmod', itemIndex: 1, account: acct, prompt: 'no #sim:moderate', downloadPath: h.downloadPath('imgmod', 'i.jpg') });
      assert.equal(o.kind, 'moderated');
    });
  });
}

describe('driver: network first (stream variant, a page that shows neither percentage nor video nor toast)', { concurrency: 2 }, () => {
  let h: GrokHarness;
  before(async () => {
    h = await startHarness({ uiVariant: 'stream', quietDom: true });
  });
  after(async () => {
    await h?.close();
  });
  const req = (acct: string, prompt: string) => {
    const jobId = `net-${crypto.randomUUID()}`;
    return { jobId, itemIndex: 0, account: acct, postUrl: h.sim.createPost(acct).url, prompt, duration: 'max' as const, downloadPath: h.downloadPath(jobId) };
  };

  it('progress, video id and URL come from the streamed response; the file from the assets host', async () => {
    const acct = h.loginAccount('default');
    const percents: number[] = [];
    // 3 s, so that a page starved by load still reads several lines of the stream before 100 %.
    const o = expectSuccess(await h.driver.generateVideo(req(acct, 'over the wire #sim:slow=3'), { onProgress: (_c, _t, m) => { const p = /generating (\d+)%/.exec(m); if (p) percents.push(Number(p[1])); } }));
    const g = h.sim.generations.find((x) => x.user === acct)!;
    assert.equal(o.videoId, g.videoIds[0], 'the video id of the stream');
    assert.ok(o.mediaUrl.startsWith(`${h.sim.assetsUrl}/users/`), `media from the assets host (${o.mediaUrl})`);
    assert.notEqual(h.sim.assetsUrl, h.sim.url);
    assert.equal(o.sha256, sha(h.sim.asset('generated_video.mp4')));
    // Live: at least one value below 100 reached the callback before the 100 (the page shows none).
    assert.ok(percents.length >= 2 && percents[0]! < 100 && percents.at(-1) === 100, `live percentages from the stream: ${percents.join(',')}`);
  });

  it("Grok's wire: post/create, videoGenModelConfig and the mode suffix sent; the envelope received", async () => {
    h.sim.addUser('wire', 'pw');
    const acct = h.loginAccount('wire');
    const post = h.sim.createPost(acct);
    const session = await h.driver.browser.openSession(acct);
    try {
      const page = session.page;
      const sent: Array<{ url: string; body: unknown }> = [];
      page.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname.startsWith('/rest/')) sent.push({ url: new URL(r.url()).pathname, body: r.postDataJSON() }); });
      const p = new PostPage(page, { ...DEFAULT_TIMEOUTS, ...FAST_TIMEOUTS } as typeof DEFAULT_TIMEOUTS, 60_000);
      await p.open(post.url);
      await p.chooseOptions({ duration: '6s', resolution: '720p', aspectRatio: '16:9', mode: 'fun' });
      await p.enterPrompt('a kite over the dunes');
      await p.makeVideo();
      const video = await p.waitForVideo(undefined, () => {});
      const g = h.sim.generations.find((x) => x.user === acct)!;
      assert.equal(video.videoId, g.videoIds[0]);

      // What the page sent: the image's post first, then the generation with its options.
      assert.deepEqual(sent.slice(0, 2).map((x) => x.url), ['/rest/media/post/create', '/rest/app-chat/conversations/new']);
      assert.deepEqual(sent[0]!.body, { mediaType: 'MEDIA_POST_TYPE_IMAGE', mediaUrl: `/imagine/post/${post.postId}/image.jpg` });
      const conv = sent[1]!.body as { message: string; responseMetadata: { modelConfigOverride: { modelMap: { videoGenModelConfig: unknown } } } };
      assert.equal(conv.message, 'a kite over the dunes --mode=fun', 'the mode as the message suffix');
      assert.deepEqual(conv.responseMetadata.modelConfigOverride.modelMap.videoGenModelConfig, { parentPostId: post.postId, aspectRatio: '16:9', videoLength: 6, resolutionName: '720p' });
      assert.deepEqual([g.duration, g.resolution, g.aspectRatio, g.mode, g.prompt], ['6s', '720p', '16:9', 'fun', 'a kite over the dunes']);

      // What the page received: conversation, userResponse, then the video's lines.
      const text = p.lastTraffic!.lines().join('\n');
      const lines = text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { result: { conversation?: { conversationId: string }; response?: Record<string, Record<string, unknown>> } });
      assert.equal(lines[0]!.result.conversation?.conversationId, g.id);
      assert.equal(lines[1]!.result.response?.userResponse?.message, 'a kite over the dunes --mode=fun');
      const videos = lines.slice(2).map((l) => l.result.response!.streamingVideoGenerationResponse!);
      assert.ok(videos.length >= 2, text);
      for (const v of videos) {
        assert.deepEqual(Object.keys(v).filter((k) => k !== 'videoUrl').sort(), ['moderated', 'parentPostId', 'progress', 'videoId', 'videoPostId', 'videoPrompt']);
        assert.equal(v.videoId, g.videoIds[0]);
        assert.equal(v.parentPostId, post.postId);
        assert.equal(v.videoPostId, g.videoPostId);
        assert.equal(v.videoPrompt, 'a kite over the dunes');
        assert.equal(v.moderated, false);
      }
      assert.equal(videos.at(-1)!.progress, 100);
      assert.ok(String(videos.at(-1)!.videoUrl).endsWith('/generated_video.mp4'));
    } finally {
      await session.close();
    }
  });

  it("upscale: Grok's POST /rest/media/video/upscale answers hdMediaUrl, and the driver takes it from there", async () => {
    // A page that shows its video (the menu to upscale it is on the video).
    const shown = await startHarness({ uiVariant: 'stream' });
    try {
      const acct = shown.loginAccount('default');
      const session = await shown.driver.browser.openSession(acct);
      try {
        const page = session.page;
        const answers: string[] = [];
        page.on('response', (r) => {
          if (r.request().method() === 'POST' && URLS.isUpscaleCall(r.url())) void r.text().then((t) => answers.push(t), () => undefined);
        });
        const p = new PostPage(page, { ...DEFAULT_TIMEOUTS, ...FAST_TIMEOUTS } as typeof DEFAULT_TIMEOUTS, 60_000);
        await p.open(shown.sim.createPost(acct).url);
        await p.enterPrompt('sharper');
        await p.makeVideo();
        const video = await p.waitForVideo(undefined, () => {});
        const hd = await p.upscale(video.src);
        const answer = await waitFor('the upscale answer', async () => answers[0], 10_000, 20);
        assert.equal(hd, new URL((JSON.parse(answer) as { hdMediaUrl: string }).hdMediaUrl, shown.sim.url).toString());
        assert.match(hd, /generated_video_hd\.mp4$/);
      } finally {
        await session.close();
      }
    } finally {
      await shown.close();
    }
  });

  it('side by side: one candidate soft-blocked → the other is the video; every candidate blocked → moderated', async () => {
    h.sim.addUser('sbs', 'pw');
    const acct = h.loginAccount('sbs');
    const one = expectSuccess(await h.driver.generateVideo(req(acct, 'two of them #sim:softblock')));
    const g = h.sim.generations.find((x) => x.user === acct)!;
    assert.equal(one.videoId, g.plannedVideoId, 'the candidate not blocked');
    const both = await h.driver.generateVideo(req(acct, 'neither of them #sim:softblock=2'));
    assert.equal(both.kind, 'moderated');
    assert.match((both as { message: string }).message, /every candidate video was blocked \(2 of 2/);
  });

  it('moderated: true at 100 % in the stream → moderated', async () => {
    h.sim.addUser('mod', 'pw');
    const o = await h.driver.generateVideo(req(h.loginAccount('mod'), 'nope #sim:moderate'));
    assert.equal(o.kind, 'moderated');
    assert.match((o as { message: string }).message, /generation stream/);
  });
});
