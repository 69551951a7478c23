import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Set on every slave workflow so the Web UI can filter by them, e.g. `JobId = 42`,
// `JobType = "GROK_VIDEO_GENERATION"`, `Account = "alice"`. Workflow code imports this
// module, so it holds the keys and nothing heavier.
export const JobIdKey = defineSearchAttributeKey('JobId', SearchAttributeType.INT);
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const AccountKey = defineSearchAttributeKey('Account', SearchAttributeType.KEYWORD);
/** The database a job belongs to (db/instance.ts), set by the master when it starts the workflow. */
/** The memo key holding the same identity (read back by the master's owner check). */
export const INSTANCE_MEMO_KEY = 'grokflowInstance';
export const GrokflowInstanceKey = defineSearchAttributeKey('GrokflowInstance', SearchAttributeType.KEYWORD);
