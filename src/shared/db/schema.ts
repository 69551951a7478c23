import { sql } from 'drizzle-orm';
import {
  bigint, bigserial, boolean, check, index, integer, jsonb, pgEnum, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import type { ItemSteps } from '../itemSteps';
import { IN_FLIGHT_STATUSES, JOB_STATUSES } from '../jobs/statuses';

// The statuses are decided in jobs/statuses.ts; re-exported for the many readers of the schema.
export { JOB_STATUSES, type JobStatus } from '../jobs/statuses';
export const jobStatus = pgEnum('job_status', JOB_STATUSES);

export const ITEM_STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'CONTENT_MODERATED', 'FAILED'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export const itemStatus = pgEnum('item_status', ITEM_STATUSES);

const timestamps = {
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
};

export const jobs = pgTable(
  'jobs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    status: jobStatus('status').notNull().default('PENDING'),
    payload: jsonb('payload').notNull().default({}),
    priority: integer('priority').notNull().default(0),
    account: text('account'),
    progress: smallint('progress').notNull().default(0),
    progressMessage: text('progress_message'),
    workflowId: text('workflow_id'),
    runId: text('run_id'),
    result: jsonb('result'),
    errorMessage: text('error_message'),
    retryOf: bigint('retry_of', { mode: 'number' }),
    ...timestamps,
    queuedAt: timestamp('queued_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    durationMs: integer('duration_ms'),
    /** The backend the job runs on ('browser' | 'api'), decided once by startJob. */
    backend: text('backend'),
    /** What xAI charged for the job, in ticks (1 USD = 10^10): the sum of its items'. Null for browser jobs. */
    costTicks: bigint('cost_ticks', { mode: 'number' }),
    /** The api backend's batch at xAI ("route": "batch"), recorded before any request is added to it. */
    xaiBatchId: text('xai_batch_id'),
    /** An imported row's `key` (src/cli/jobImport.ts): the same key is imported once. */
    importKey: text('import_key'),
  },
  (t) => [
    // Serves the claim: WHERE status='PENDING' AND type=$1 ORDER BY priority DESC, created_at.
    index('jobs_claim_idx').on(t.status, t.type, t.priority.desc(), t.createdAt),
    // The reconciler scans the few jobs that are in flight. Written out as the same text as
    // migration 0000 (status IN ('INQUEUE', 'PROGRESS')), so drizzle-kit sees no change.
    // Serves the capacity claim (migrations 0009, 0015): PENDING jobs per want (the payload
    // keys accountWant reads, '' when absent), in claim order; and the wants themselves, one
    // probe each.
    index('jobs_pending_want_idx').on(t.type, sql`coalesce(payload->>'account', '')`, sql`coalesce(payload->>'pool', '')`, sql`coalesce(payload->>'backend', '')`, t.priority.desc(), t.createdAt, t.id).where(sql`status = 'PENDING'`),
    index('jobs_in_flight_idx').on(t.status, t.updatedAt).where(sql.raw(`status IN (${IN_FLIGHT_STATUSES.map((s) => `'${s}'`).join(', ')})`)),
    // Migration 0013: search by prompt (a trigram index on PROMPT_TEXT, src/cli/jobFilter.ts),
    // a job's retries, imports' keys, and the date filter.
    index('jobs_prompt_trgm_idx').using('gin', sql.raw(`(coalesce(payload->>'prompt', '') || ' ' || coalesce(payload->>'prompts', '')) gin_trgm_ops`)),
    index('jobs_retry_of_idx').on(t.retryOf).where(sql`${t.retryOf} IS NOT NULL`),
    uniqueIndex('jobs_import_key_idx').on(t.importKey).where(sql`${t.importKey} IS NOT NULL`),
    index('jobs_created_at_idx').on(t.createdAt),
  ],
);

export const jobItems = pgTable(
  'job_items',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: bigint('job_id', { mode: 'number' }).notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    index: integer('index').notNull(),
    prompt: text('prompt'),
    status: itemStatus('status').notNull().default('PENDING'),
    attempts: integer('attempts').notNull().default(0),
    moderationRetries: integer('moderation_retries').notNull().default(0),
    mediaUrl: text('media_url'),
    filePath: text('file_path'),
    sha256: text('sha256'),
    bytes: bigint('bytes', { mode: 'number' }),
    hd: boolean('hd').notNull().default(false),
    // What the Grok page showed as chosen for this video ('10s', '720p'): "max" made concrete.
    duration: text('duration'),
    resolution: text('resolution'),
    /** s3://bucket/key of the item's file when OUTPUT_URL is set (the HD one when upscaled). */
    objectUrl: text('object_url'),
    /** Every file of the item (SD and its HD twin): path, object URL, sha256, bytes. */
    files: jsonb('files').$type<Array<{ hd: boolean; path: string | null; url: string | null; sha256: string; bytes: number }>>(),
    error: text('error'),
    /** The account the item last ran on (pool jobs choose one per item); quotas count by it. */
    account: text('account'),
    /**
     * The backend's resume token (the API backend: the xAI request ids of this item and what
     * each cost), written before the first poll, so a retried activity polls them and never
     * submits (and pays) again.
     */
    backendToken: text('backend_token'),
    /** What xAI charged for this item, in ticks, every request of it included (moderated ones too). */
    costTicks: bigint('cost_ticks', { mode: 'number' }),
    /** The api backend: an image call serving this item's group of the job (recorded on the group's first item). */
    xaiSharedCall: text('xai_shared_call'),
    /** Milliseconds per step of the item's last try (src/shared/itemSteps.ts): where its time went. */
    steps: jsonb('steps').$type<ItemSteps>(),
    ...timestamps,
  },
  (t) => [uniqueIndex('job_items_job_index_uq').on(t.jobId, t.index)],
);

export const jobEvents = pgTable(
  'job_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: bigint('job_id', { mode: 'number' }).notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    fromStatus: jobStatus('from_status'),
    toStatus: jobStatus('to_status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    detail: jsonb('detail'),
  },
  (t) => [index('job_events_job_idx').on(t.jobId, t.at)],
);

/** Each attempt to POST a job's callback (webhook): what the receiver answered, or why not. */
export const jobDeliveries = pgTable(
  'job_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: bigint('job_id', { mode: 'number' }).notNull().references(() => jobs.id, { onDelete: 'cascade' }),
    /** X-Grokflow-Delivery: the same for every attempt of one delivery. */
    deliveryId: text('delivery_id').notNull(),
    attempt: integer('attempt').notNull(),
    httpStatus: integer('http_status'),
    error: text('error'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('job_deliveries_job_idx').on(t.jobId, t.at)],
);

export const accounts = pgTable(
  'accounts',
  {
    name: text('name').primaryKey(),
    // A path only: the storage state's content never leaves its 0600 file.
    storageState: text('storage_state'),
    cooldownUntil: timestamp('cooldown_until', { withTimezone: true }),
    dailyQuota: integer('daily_quota'),
    lastAuthError: text('last_auth_error'),
    /** Jobs that name no account run on any ready account of their pool (payload `pool`). */
    pool: text('pool').notNull().default('default'),
    /** Generations at once on this account; null: ACCOUNT_CONCURRENCY (AUTH_MODE=profile: always 1). */
    concurrency: integer('concurrency'),
    /** Least time between two generation starts; null: ACCOUNT_MIN_GAP_MS. */
    minGapMs: integer('min_gap_ms'),
    /** When the last slot was taken: the minimum gap counts from here. */
    lastStartedAt: timestamp('last_started_at', { withTimezone: true }),
    /** The last failure seen on the account (rate limit, login, generation), for `accounts list`. */
    lastError: text('last_error'),
    /** 'browser': a Grok login; 'api': the xAI API key (XAI_API_KEY; the key itself is never stored). */
    kind: text('kind', { enum: ['browser', 'api'] }).notNull().default('browser'),
    /** An api account's daily budget in ticks (1 USD = 10^10); null: no budget. */
    dailyBudgetTicks: bigint('daily_budget_ticks', { mode: 'number' }),
    /** What Grok's quota_info said was left, and of how many, when read (src/slave/accounts/grokQuota.ts). */
    grokQuotaLeft: integer('grok_quota_left'),
    grokQuotaTotal: integer('grok_quota_total'),
    grokQuotaReadAt: timestamp('grok_quota_read_at', { withTimezone: true }),
    /** When Grok's window ends; null: the end of the day it was read. */
    grokQuotaResetsAt: timestamp('grok_quota_resets_at', { withTimezone: true }),
    /** The last canary (accounts check): false keeps the account out of its pool until one passes. */
    canaryOk: boolean('canary_ok'),
    canaryAt: timestamp('canary_at', { withTimezone: true }),
    canaryError: text('canary_error'),
    ...timestamps,
  },
  (t) => [
    index('accounts_pool_idx').on(t.pool),
    check('accounts_kind_check', sql`${t.kind} IN ('browser', 'api')`),
    check('accounts_concurrency_positive', sql`${t.concurrency} IS NULL OR ${t.concurrency} > 0`),
    check('accounts_min_gap_not_negative', sql`${t.minGapMs} IS NULL OR ${t.minGapMs} >= 0`),
  ],
);

/**
 * A generation slot held on an account (src/slave/accounts/slots.ts). A lease, not a row lock
 * or an advisory lock held for the generation: those live as long as one pinned connection,
 * so N slots would pin N connections for minutes and a lock cannot be listed or counted by
 * another process. A lease row is a plain fact every slave and `accounts list` can read; the
 * holder renews `expires_at` while it works, so a holder killed with -9 stops renewing and
 * its slot is free again after one heartbeat timeout. Taking a slot is serialized per account
 * by a short `SELECT … FOR UPDATE` on the accounts row.
 */
export const accountLeases = pgTable(
  'account_leases',
  {
    account: text('account').notNull().references(() => accounts.name, { onDelete: 'cascade' }),
    /** Who holds it: the activity (workflow id + activity id), the same on every retry. */
    holder: text('holder').notNull(),
    jobId: bigint('job_id', { mode: 'number' }),
    itemIndex: integer('item_index'),
    acquiredAt: timestamp('acquired_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    /** A reservation the claim made that no item used yet (migration 0009): its first item skips the gap. */
    unused: boolean('unused').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.account, t.holder] }),
    index('account_leases_expiry_idx').on(t.account, t.expiresAt),
    index('account_leases_job_idx').on(t.jobId),
  ],
);

/**
 * A running job that needs a slot and has none (migration 0014): its reservation ran out
 * before its first item, or a rate limit released its slot while its pool was busy. The
 * master's claim hands it the next free slot (a lease `job/<id>`) and signals its workflow;
 * the item that adopts the slot deletes the row. Written by src/slave/accounts/waitRows.ts.
 */
export const jobWaits = pgTable('job_waits', {
  jobId: bigint('job_id', { mode: 'number' }).primaryKey().references(() => jobs.id, { onDelete: 'cascade' }),
  /** The account the job ran on, if any (where it waited from). */
  account: text('account'),
  /** What it waits for, as said to a person. */
  reason: text('reason').notNull(),
  since: timestamp('since', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * A paused job type or pool (`scope` 'type' or 'pool'): the master's claim skips PENDING jobs
 * it covers; running jobs finish. Deleting the row resumes, and notifies `grokflow_capacity`.
 */
export const jobPauses = pgTable(
  'job_pauses',
  {
    scope: text('scope', { enum: ['type', 'pool'] }).notNull(),
    name: text('name').notNull(),
    reason: text('reason'),
    pausedBy: text('paused_by'),
    pausedAt: timestamp('paused_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.scope, t.name] }),
    check('job_pauses_scope_check', sql`${t.scope} IN ('type', 'pool')`),
  ],
);

/**
 * The callback outbox: one row per ended job with a callbackUrl, written by endJob in the
 * transaction that ends it (the job id is the key: at most one row a job). The master's
 * delivery loop (src/master/callbackOutbox.ts) starts its delivery workflow and stamps
 * `started_at`; a failed start is kept in `error` and tried again by the next sweep.
 */
export const jobCallbacks = pgTable(
  'job_callbacks',
  {
    jobId: bigint('job_id', { mode: 'number' }).primaryKey().references(() => jobs.id, { onDelete: 'cascade' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** The delivery workflow's id, derived from the job (`callback(<job workflow id>)`). */
    workflowId: text('workflow_id'),
    startedAt: timestamp('started_at', { withTimezone: true }),
    error: text('error'),
  },
  (t) => [index('job_callbacks_waiting_idx').on(t.jobId).where(sql`${t.startedAt} IS NULL`)],
);

/**
 * A console login (src/web/sessions.ts): the SHA-256 of the cookie's value, never the value;
 * `tokenMac` ties it to the WEB_TOKEN it was opened with. Logout deletes the row.
 */
export const webSessions = pgTable(
  'web_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    tokenMac: text('token_mac').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('web_sessions_expires_at_idx').on(t.expiresAt)],
);

// One row: this database's identity. A job is its database and its id: the identity travels
// in every workflow's input, memo and search attributes, so a workflow or a file of another
// database (ids restart at 1 in each) is never taken for this one's (see db/instance.ts).
export const grokflowInstance = pgTable(
  'grokflow_instance',
  {
    singleton: boolean('singleton').primaryKey().default(true),
    identity: uuid('identity').notNull().default(sql`gen_random_uuid()`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('grokflow_instance_one_row', sql`${t.singleton}`)],
);

export type Job = typeof jobs.$inferSelect;
export type JobItem = typeof jobItems.$inferSelect;
export type JobEvent = typeof jobEvents.$inferSelect;
export type Account = typeof accounts.$inferSelect;
export type JobDelivery = typeof jobDeliveries.$inferSelect;
export type AccountLease = typeof accountLeases.$inferSelect;
export type JobPause = typeof jobPauses.$inferSelect;
export type JobWait = typeof jobWaits.$inferSelect;
export type JobCallback = typeof jobCallbacks.$inferSelect;
