import type { Duration } from '@temporalio/common';
import type { z } from 'zod';
import { imageItems, imagePayloadSchema, videoItems, videoPayloadSchema, type ItemSpec } from './payloads';

/**
 * The job types grokflow knows: one entry each (the seed's masterWorkflowMap). Adding a
 * type means an entry here, its payload schema, and its workflow name exported from
 * src/slave/workflows.ts (every type runs the same generation workflow).
 */
export const JOB_TYPE_NAMES = ['GROK_VIDEO_GENERATION', 'GROK_IMAGE_GENERATION'] as const;
export type JobTypeName = (typeof JOB_TYPE_NAMES)[number];

export interface ActivityTimeouts {
  startToClose: Duration;
  scheduleToClose: Duration;
  heartbeat: Duration;
}

export type DispatchMode = 'sequential' | 'concurrent';

/** What one item of a job makes: decides the backend call, the file's extension, the summary. */
export type ItemKind = 'video' | 'image';

export interface JobTypeEntry<S extends z.ZodType = z.ZodType> {
  name: JobTypeName;
  payloadSchema: S;
  items(payload: z.output<S>): ItemSpec[];
  itemKind: ItemKind;
  masterTaskQueue: string;
  slaveTaskQueue: string;
  cron: string;
  dispatch: { mode: DispatchMode; batchSize: number };
  /** The slave workflow's type name, as exported from src/slave/workflows. */
  slaveWorkflow: string;
  activityTimeouts: ActivityTimeouts;
}

const DEFAULT_TIMEOUTS: ActivityTimeouts = { startToClose: '2 days', scheduleToClose: '2 days', heartbeat: '20 seconds' };

function entry<S extends z.ZodType>(
  name: JobTypeName,
  fields: Pick<JobTypeEntry<S>, 'payloadSchema' | 'items' | 'itemKind' | 'slaveWorkflow'> & Partial<JobTypeEntry<S>>,
): JobTypeEntry<S> {
  const queue = name.toLowerCase();
  return {
    name,
    masterTaskQueue: `master_${queue}`,
    slaveTaskQueue: queue,
    cron: '* * * * *',
    dispatch: { mode: 'concurrent', batchSize: 100 },
    activityTimeouts: DEFAULT_TIMEOUTS,
    ...fields,
  };
}

export const registry = {
  GROK_VIDEO_GENERATION: entry('GROK_VIDEO_GENERATION', {
    payloadSchema: videoPayloadSchema,
    items: videoItems,
    itemKind: 'video',
    slaveWorkflow: 'grokVideoGenerationWorkflow',
  }),
  GROK_IMAGE_GENERATION: entry('GROK_IMAGE_GENERATION', {
    payloadSchema: imagePayloadSchema,
    items: imageItems,
    itemKind: 'image',
    slaveWorkflow: 'grokImageGenerationWorkflow',
  }),
} satisfies Record<JobTypeName, { slaveTaskQueue: string }>;

export function isJobType(name: string): name is JobTypeName {
  return (JOB_TYPE_NAMES as readonly string[]).includes(name);
}

export function jobType(name: string): JobTypeEntry {
  if (!isJobType(name)) throw new Error(`unknown job type "${name}"; known: ${JOB_TYPE_NAMES.join(', ')}`);
  return registry[name] as unknown as JobTypeEntry;
}

/**
 * Workflow id of a job's slave workflow: `<prefix><type in lower case>(<jobId>)`, prefix
 * WORKFLOW_ID_PREFIX (default empty), as the text before and after the job id. The claim
 * writes it in SQL around the row's id (`before || id || after`), jobWorkflowId in JS:
 * both from these parts, so the rule is written once.
 */
export function jobWorkflowIdParts(type: string, prefix = ''): { before: string; after: string } {
  return { before: `${prefix}${type.toLowerCase()}(`, after: ')' };
}

export function jobWorkflowId(type: string, jobId: number, prefix = ''): string {
  const { before, after } = jobWorkflowIdParts(type, prefix);
  return `${before}${jobId}${after}`;
}
