import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTemporal } from './helpers/temporal';
import * as activities from './fixtures/smoke-activities';
import { smokeWorkflow } from './fixtures/smoke-workflows';

describe('real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  before(async () => { env = await startTemporal(); });
  after(async () => { await env?.teardown(); });

  test('runs a workflow and its activity on a worker', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'smoke',
      workflowsPath: require.resolve('./fixtures/smoke-workflows'),
      activities,
    });
    const result = await worker.runUntil(
      env.client.workflow.execute(smokeWorkflow, { taskQueue: 'smoke', workflowId: 'smoke-1', args: ['grokflow'] }),
    );
    assert.equal(result, 'hello grokflow from attempt 1');
    const described = await env.client.workflow.getHandle('smoke-1').describe();
    assert.equal(described.status.name, 'COMPLETED');
  });
});
