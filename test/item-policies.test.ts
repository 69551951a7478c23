import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { FailureType } from '../src/slave/failures';
import { afterModeration, backToGate, failureFor, faultMessage } from '../src/slave/item/failures';
import { missingFiles, readJob } from '../src/slave/plan';

// The named policies generateItem is made of, each on its own (no Temporal, no browser).

// A deployment against grok.com whose images folder is the temp dir (the image below lives there).
const config = {
  ITEM_CONCURRENCY: 2, JOB_DEADLINE_MS: 48 * 3600_000, GROK_BACKEND: 'browser', XAI_ACCOUNT: 'xai',
  GROK_BASE_URL: 'https://grok.com', SIMULATOR_PORT: 3077, SIMULATOR_URL: undefined, IMAGES_DIR: os.tmpdir(),
} as const;
const createdAt = new Date('2026-11-25T12:00:00Z');

describe('item policies', () => {
  it('a rate limit is retried after the cooldown, carried as the retry delay', () => {
    const f = failureFor({ kind: 'rateLimited', cooldownMs: 90_000, message: 'Rate limit reached' }, 'alice');
    assert.equal(f.type, FailureType.RateLimited);
    assert.equal(f.nonRetryable, false);
    assert.equal(f.nextRetryDelay, 90_000);
    assert.match(f.message, /^account alice: Rate limit reached$/);
  });

  it('a rate limit, and a lost login of a pool account, send the item back through the account gate; a failure never does', () => {
    const limited = { kind: 'rateLimited', cooldownMs: 90_000, message: 'Rate limit reached' } as const;
    const signedOut = { kind: 'authRequired', message: 'signed out' } as const;
    assert.equal(backToGate(limited, { account: 'alice' }), true);
    assert.equal(backToGate(limited, { pool: 'default' }), true);
    assert.equal(backToGate(signedOut, { pool: 'default' }), true, 'another account of the pool can take it');
    assert.equal(backToGate(signedOut, { account: 'alice' }), false, 'a job naming the account ends: a person must log in');
    assert.equal(backToGate({ kind: 'failed', reason: 'stuck', retryable: true }, { pool: 'default' }), false);
  });

  it('a lost login ends the job; a failure is retried unless the backend says it cannot help', () => {
    const auth = failureFor({ kind: 'authRequired', message: 'signed out' }, 'bob');
    assert.equal(auth.type, FailureType.AuthRequired);
    assert.equal(auth.nonRetryable, true);
    assert.match(auth.message, /bob needs a new login/);
    const retry = failureFor({ kind: 'failed', reason: 'stuck at 40%', retryable: true }, 'bob');
    assert.deepEqual([retry.type, retry.nonRetryable], [FailureType.GenerationFailed, false]);
    const final = failureFor({ kind: 'failed', reason: 'no such option', retryable: false, artifactsDir: '/a/1' }, 'bob');
    assert.equal(final.nonRetryable, true);
    assert.equal(final.message, 'no such option (artifacts: /a/1)');
  });

  it('the fault message names the artifacts only when there are some', () => {
    assert.equal(faultMessage({ kind: 'failed', reason: 'x', retryable: true }), 'x');
    assert.equal(faultMessage({ kind: 'authRequired', message: 'gone', artifactsDir: 'd' }), 'gone (artifacts: d)');
  });

  it('moderation regenerates until its own budget is spent', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((n) => afterModeration(n, 3)), ['regenerate', 'regenerate', 'regenerate', 'give up', 'give up']);
    assert.equal(afterModeration(0, 0), 'give up');
  });

  it('the plan reads a video job once: kind, account, options, summary, minSuccessful', () => {
    const { plan, items, minSuccessful } = readJob({
      type: 'GROK_VIDEO_GENERATION',
      payload: { prompts: ['a fox', 'a cat'], duration: '6s', account: 'alice', minSuccessful: 1, upscale: true, deadlineMinutes: 90 },
      createdAt,
    }, config);
    assert.deepEqual(plan.itemIndexes, [0, 1]);
    assert.deepEqual(items.map((i) => i.prompt), ['a fox', 'a cat']);
    assert.equal(minSuccessful, 1);
    assert.equal(plan.concurrency, 2);
    assert.deepEqual({ ...plan.item, video: undefined }, { kind: 'video', backend: 'browser', account: 'alice', video: undefined });
    assert.equal(plan.account, 'alice');
    assert.equal(plan.deadlineAt, createdAt.getTime() + 90 * 60_000, 'the payload\'s deadline, from the INSERT');
    assert.equal(plan.item?.video?.duration, '6s');
    assert.equal(plan.item?.video?.upscale, true);
    assert.equal(plan.summary, '2 × video: "a fox"');
  });

  it('an image job has no video options; naming no account, its items choose from the default pool', () => {
    const { plan, minSuccessful } = readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'a lighthouse', count: 3 }, createdAt }, config);
    assert.equal(plan.item?.kind, 'image');
    assert.equal(plan.item?.video, undefined);
    assert.equal(plan.item?.account, undefined);
    assert.equal(plan.item?.pool, 'default');
    assert.equal(plan.account, 'pool:default');
    assert.equal(plan.deadlineAt, createdAt.getTime() + config.JOB_DEADLINE_MS);
    const team = readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'x', pool: 'team' }, createdAt }, config).plan;
    assert.deepEqual([team.item?.pool, team.account], ['team', 'pool:team']);
    assert.throws(() => readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'x', pool: 'team', account: 'alice' }, createdAt }, config), /payload\.pool: give account or pool, not both/);
    assert.equal(minSuccessful, 3);
    assert.equal(plan.summary, '3 × image: "a lighthouse"');
  });

  it('the backend: payload.backend, else GROK_BACKEND; an API job spends from XAI_ACCOUNT unless it names one', () => {
    const api = readJob({ type: 'GROK_VIDEO_GENERATION', payload: { prompt: 'a fox', backend: 'api' }, createdAt }, config).plan.item!;
    assert.deepEqual([api.backend, api.account], ['api', 'xai']);
    const byDefault = readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'a fox' }, createdAt }, { ...config, GROK_BACKEND: 'api' }).plan.item!;
    assert.deepEqual([byDefault.backend, byDefault.account], ['api', 'xai']);
    const named = readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'a fox', account: 'team-key' }, createdAt }, { ...config, GROK_BACKEND: 'api' }).plan.item!;
    assert.equal(named.account, 'team-key');
    const browser = readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'a fox', backend: 'browser' }, createdAt }, { ...config, GROK_BACKEND: 'api' }).plan.item!;
    assert.deepEqual([browser.backend, browser.account, browser.pool], ['browser', undefined, 'default']);
    assert.throws(() => readJob({ type: 'GROK_IMAGE_GENERATION', payload: { prompt: 'a fox', backend: 'fax' }, createdAt }, config), /payload\.backend/);
  });

  it('an API job asking for page-only options is refused, naming each field', () => {
    const post = 'https://grok.com/imagine/post/0b0b0b0b-0000-4000-8000-000000000000';
    assert.throws(
      () => readJob({ type: 'GROK_VIDEO_GENERATION', payload: { prompt: 'a fox', backend: 'api', imageUrl: post, mode: 'spicy', upscale: true }, createdAt }, config),
      /invalid payload for the api backend: payload\.imageUrl: .*give imagePath.*; payload\.mode: "spicy" .*; payload\.upscale: /,
    );
  });

  it('a bad payload names the field; a missing image file is found at start, not when read', () => {
    assert.throws(() => readJob({ type: 'GROK_VIDEO_GENERATION', payload: { prompt: 'x', duration: '7s' }, createdAt }, config), /payload\.duration/);
    const gone = path.join(os.tmpdir(), `grokflow-missing-${process.pid}.jpg`);
    const { plan } = readJob({ type: 'GROK_VIDEO_GENERATION', payload: { imagePath: gone }, createdAt }, config);
    assert.match(missingFiles(plan, config)?.message ?? '', /payload\.imagePath: no file at .*missing/);
    fs.writeFileSync(gone, 'jpg');
    try {
      assert.equal(missingFiles(plan, config), undefined);
    } finally {
      fs.rmSync(gone);
    }
  });
});
