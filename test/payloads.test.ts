import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePayload, videoItems, videoPayloadSchema, imagePayloadSchema, PayloadError } from '../src/shared/payloads';
import { jobType, jobWorkflowId, registry } from '../src/shared/registry';

const POST = 'https://grok.com/imagine/post/0b5c1c6e-3f1a-4c3e-9a55-2f1d7e0c9b11';

describe('payloads', () => {
  test('a video payload gets its defaults', () => {
    const p = parsePayload(videoPayloadSchema, { imageUrl: POST, prompt: 'waves' });
    assert.equal(p.duration, 'max');
    assert.equal(p.upscale, false);
    assert.deepEqual(videoItems(p), [{ index: 0, prompt: 'waves' }]);
  });

  test('mode, aspectRatio and extend are accepted', () => {
    const p = parsePayload(videoPayloadSchema, { imageUrl: POST, prompt: 'waves', mode: 'spicy', aspectRatio: '9:16', extend: 30 });
    assert.deepEqual([p.mode, p.aspectRatio, p.extend], ['spicy', '9:16', 30]);
  });

  test('prompts[] gives one item per prompt', () => {
    const p = parsePayload(videoPayloadSchema, { imageUrl: POST, prompts: ['a', 'b', 'c'] });
    assert.deepEqual(videoItems(p).map((i) => i.prompt), ['a', 'b', 'c']);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['count out of range', { prompt: 'x', count: 101 }, /payload\.count/],
    ['not a post permalink', { imageUrl: 'https://example.com/a.png' }, /payload\.imageUrl: must be a Grok Imagine post permalink/],
    ['nothing to start from', { count: 2 }, /payload\.prompt: required/],
    ['url and path', { imageUrl: POST, imagePath: '/tmp/a.png' }, /payload\.imagePath: give imageUrl or imagePath, not both/],
    ['count disagrees with prompts', { prompts: ['a', 'b'], count: 3 }, /payload\.count: is 3 but prompts has 2/],
    ['unknown field', { prompt: 'x', colour: 'red' }, /payload\.colour/],
    ['wrong type', { prompt: 'x', upscale: 'yes' }, /payload\.upscale/],
    ['minSuccessful above count', { prompt: 'x', count: 2, minSuccessful: 3 }, /payload\.minSuccessful/],
    ['bad duration', { prompt: 'x', duration: '8s' }, /payload\.duration/],
    ['bad aspect ratio', { prompt: 'x', aspectRatio: '4:3' }, /payload\.aspectRatio/],
    ['bad mode', { prompt: 'x', mode: 'wild' }, /payload\.mode/],
    ['extend beyond 30 s', { prompt: 'x', extend: 31 }, /payload\.extend/],
    ['account leaving the accounts folder', { prompt: 'x', account: '..' }, /payload\.account: letters, digits/],
    ['account starting with a dot', { prompt: 'x', account: '.hidden' }, /payload\.account/],
    ['not an object', 'make me a video', /payload/],
  ];
  for (const [name, payload, message] of bad) {
    test(`refused: ${name}`, () => {
      assert.throws(() => parsePayload(videoPayloadSchema, payload), (err: Error) => {
        assert.ok(err instanceof PayloadError);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('an image payload needs a prompt', () => {
    assert.throws(() => parsePayload(imagePayloadSchema, { count: 2 }), /payload\.prompt/);
  });
});

describe('registry', () => {
  test('queues and workflow ids follow the naming rules', () => {
    const video = jobType('GROK_VIDEO_GENERATION');
    assert.equal(video.masterTaskQueue, 'master_grok_video_generation');
    assert.equal(video.slaveTaskQueue, 'grok_video_generation');
    assert.deepEqual(video.activityTimeouts, { startToClose: '2 days', scheduleToClose: '2 days', heartbeat: '20 seconds' });
    assert.equal(jobWorkflowId('GROK_VIDEO_GENERATION', 42), 'grok_video_generation(42)');
    assert.equal(registry.GROK_IMAGE_GENERATION.slaveTaskQueue, 'grok_image_generation');
  });

  test('an unknown type is named in the error', () => {
    assert.throws(() => jobType('GROK_AUDIO'), /unknown job type "GROK_AUDIO"/);
  });
});
