import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Set on every slave workflow so the Web UI can filter by them, e.g. `JobId = 42`,
// `JobType = "GROK_VIDEO_GENERATION"`, `Account = "alice"`. Workflow code imports this
// module, so it holds the keys and nothing heavier.
export const JobIdKey = defineSearchAttributeKey('JobId', SearchAttributeType.INT);
export const JobTypeKey = defineSearchAttributeKey('JobType', SearchAttributeType.KEYWORD);
export const AccountKey = defineSearchAttributeKey('Account', SearchAttributeType.KEYWORD);
