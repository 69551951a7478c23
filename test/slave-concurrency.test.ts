import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startStack, type Stack } from './helpers/stack';

// ITEM_CONCURRENCY > 1: the items of one job generate side by side on the same post, each
// page must take its own video and not the one a sibling page just finished.

describe('slave: ITEM_CONCURRENCY=2', () => {
  let s: Stack;
  before(async () => {
    s = await startStack({ env: { ITEM_CONCURRENCY: '2' }, simulator: { generationMs: 2500 } });
  });
  after(async () => {
    await s?.stop();
  });

  test('4 prompts on one post: 2 at a time, each item keeps its own video', async () => {
    const post = s.simulator.createPost('default');
    const prompts = ['a heron takes off', 'a heron lands', 'a heron fishes', 'a heron sleeps'];
    const id = await s.insertJob({ imageUrl: post.url, prompts });
    const job = await s.waitForJob(id, ['COMPLETED', 'ERROR'], 180_000);
    assert.equal(job.status, 'COMPLETED', job.errorMessage ?? '');

    const items = await s.items(id);
    assert.deepEqual(items.map((i) => i.status), ['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    assert.equal(new Set(items.map((i) => i.filePath)).size, 4, 'one file per item');
    assert.equal(new Set(items.map((i) => i.mediaUrl)).size, 4, 'one video per item');

    const generations = s.simulator.generations.filter((g) => g.postId === post.postId);
    assert.equal(generations.length, 4, 'one generation per item, none repeated');
    for (const item of items) {
      const videoId = /\/generated\/([0-9a-f-]+)\//.exec(item.mediaUrl ?? '')?.[1];
      const g = generations.find((x) => x.videoIds.includes(videoId ?? ''));
      assert.equal(g?.prompt, prompts[item.index], `item ${item.index} downloaded the video of its own prompt`);
    }

    // How many generations ran at once, from the simulator's own clock.
    const edges = generations.flatMap((g) => [[g.startedAt, 1], [g.startedAt + g.durationMs, -1]] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (running += d));
    assert.equal(peak, 2, 'two items generated at the same time, never more');
  });
});
