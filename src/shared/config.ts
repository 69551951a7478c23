import path from 'node:path';
import { z } from 'zod';
import { cronProblem } from './cron';
import { UI_VARIANTS } from '../simulator/variants';
import { BACKEND_NAMES } from '../backends/names';
import { ACCOUNT_NAME_RULE, isAccountName } from './accountName';
import { VIDEO_MODEL_NAMES } from '../backends/api/limits';
import { ROUTES } from '../backends/api/payloadFields';
import { DEFAULT_VIDEO_PRICES, videoPricesProblem } from '../backends/api/prices';

// Every setting comes from the environment, is validated here and nowhere else, and is
// listed in the configuration table of docs/configuration.md with the same default.
const bool = z.stringbool({ truthy: ['1', 'true', 'yes', 'on'], falsy: ['0', 'false', 'no', 'off', ''] });
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  DATABASE_URL: z.url().refine((u) => /^postgres(ql)?:\/\//.test(u), 'a postgres:// (or postgresql://) URL').default('postgres://postgres@127.0.0.1:5432/grokflow'),
  TEMPORAL_ADDRESS: z.string().min(1).refine((a) => !a.includes('://'), 'host:port without a scheme, e.g. temporal.internal:7233')
    .optional().describe('unset: grokflow starts an embedded dev server'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  WORKFLOW_ID_PREFIX: z.string().regex(/^[\w.-]*$/, 'letters, digits, _ . - only').optional().describe('unset: no prefix; prefixed to job workflow ids'),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  GROKFLOW_DATA_DIR: z.string().default('.data'),
  GROK_BASE_URL: z.url().optional().describe('unset: the bundled Grok Imagine simulator'),
  SIMULATOR_PORT: port.default(3077),
  SIMULATOR_HOST: z.string().min(1).default('127.0.0.1').describe('the simulator listens here; 0.0.0.0 in a container'),
  SIMULATOR_URL: z.url().optional().describe('where a slave finds the simulator; unset: http://127.0.0.1:SIMULATOR_PORT'),
  SIMULATOR_GENERATION_MS: positiveInt.default(3000),
  SIMULATOR_COOLDOWN_MS: positiveInt.default(60_000),
  SIMULATOR_USERS: z.string().regex(/^[\w.-]+(:[^,]*)?(,[\w.-]+(:[^,]*)?)*$/, 'name:password[,name:password…]').default('default:secret'),
  SIMULATOR_UI_VARIANT: z.enum(UI_VARIANTS).default('classic').describe('how the simulator\'s pages look and talk (docs/simulator.md)'),
  // The backend a job runs on unless its payload names one (docs/backends.md "Browser or API").
  GROK_BACKEND: z.enum(BACKEND_NAMES).default('browser').describe('browser: Grok\'s web app through Chromium; api: xAI\'s Imagine API'),
  XAI_API_KEY: z.string().min(1).optional().describe('secret; unset: the API backend talks to the simulator\'s stand-in of the API'),
  XAI_BASE_URL: z.url().default('https://api.x.ai/v1').describe('read only with XAI_API_KEY'),
  XAI_VIDEO_MODEL: z.enum(VIDEO_MODEL_NAMES).default('grok-imagine-video').describe('the video model of jobs that name none (payload.model)'),
  XAI_IMAGE_MODEL: z.string().min(1).default('grok-imagine-image'),
  XAI_VIDEO_PRICES: z.string().superRefine((v, ctx) => {
    const problem = videoPricesProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).default(DEFAULT_VIDEO_PRICES).describe('USD per video second by model and resolution: the estimate, and the cost when xAI reports none'),
  XAI_ROUTE: z.enum(ROUTES).default('direct').describe('batch: API jobs that say nothing go to xAI\'s Batch API'),
  XAI_BATCH_POLL_INTERVAL_MS: positiveInt.default(30_000).describe('how often a running batch is looked at'),
  XAI_IMAGE_USD: z.coerce.number().positive().default(0.02).describe('the budget estimate of an image, and its cost when xAI reports none'),
  XAI_POLL_INTERVAL_MS: positiveInt.default(5000).describe('how often a pending video generation is looked at'),
  XAI_REQUESTS_PER_SECOND: z.coerce.number().positive().default(1).describe('generations started per second on each API task queue, across every slave'),
  XAI_ACCOUNT: z.string().refine(isAccountName, ACCOUNT_NAME_RULE).default('xai').describe('the api account (budget) of API jobs that name none'),
  CHROMIUM_PATH: z.string().min(1).optional(),
  BROWSER_HEADLESS: bool.default(true),
  BROWSER_PREWARM: bool.default(true).describe('keep opened contexts per account ready for their next generation: a spare made ahead, and the context of a generation that went well'),
  AUTH_MODE: z.enum(['storageState', 'profile']).default('storageState'),
  ACCOUNTS_DIR: z.string().default('accounts'),
  DOWNLOADS_DIR: z.string().default('downloads'),
  // Delivery (docs/delivery.md "Delivery"): object storage for the files, a signed webhook at the end.
  OUTPUT_URL: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 's3://bucket[/prefix]').optional().describe('unset: files stay in DOWNLOADS_DIR'),
  S3_ENDPOINT: z.url().optional().describe('an S3-compatible server; unset: AWS S3'),
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_FORCE_PATH_STYLE: bool.default(false),
  AWS_ACCESS_KEY_ID: z.string().min(1).optional().describe('unset: the AWS SDK default credential chain'),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  KEEP_LOCAL_COPY: bool.optional().describe('default: false with OUTPUT_URL (the local file goes once stored)'),
  // Test hook only: a slave waits this long between the download and the upload, so a test
  // can kill it exactly there. 0 (the default) in every real deployment.
  UPLOAD_TEST_PAUSE_MS: z.coerce.number().int().min(0).default(0),
  WEBHOOK_SECRET: z.string().min(1).optional().describe('signs callbacks; required for payloads with callbackUrl'),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false).describe('allow callbacks to loopback, private and link-local addresses'),
  WEBHOOK_TIMEOUT_MS: positiveInt.default(10_000),
  WEBHOOK_RETRY_INITIAL_MS: positiveInt.default(5_000),
  WEBHOOK_RETRY_MAX_MS: positiveInt.default(3_600_000),
  WEBHOOK_RETRY_FOR_MS: positiveInt.default(86_400_000),
  ARTIFACTS_DIR: z.string().default('artifacts'),
  PLAYWRIGHT_TRACE: bool.default(false),
  SLAVE_CONCURRENT_ACTIVITIES: positiveInt.default(5),
  SLAVE_BOOKKEEPING_CONCURRENCY: positiveInt.default(10).describe('status changes one slave runs at once, apart from generations'),
  ITEM_CONCURRENCY: positiveInt.default(1),
  RATE_LIMIT_COOLDOWN_MS: z.coerce.number().int().positive('at least 1 ms: with 0 a rate-limited account would be used again at once')
    .default(15 * 60_000).describe('used when Grok does not say how long'),
  // Accounts as a pool (docs/accounts.md "Accounts as a pool"): limits every slave keeps together, per account.
  ACCOUNT_CONCURRENCY: positiveInt.max(100).default(10).describe('generations at once per browser account (1–100, the seed\'s 10), unless `accounts set --concurrency`; AUTH_MODE=profile: 1'),
  ACCOUNT_MIN_GAP_MS: z.coerce.number().int().min(0).default(8000).describe('least time between two generation starts on one account, unless `accounts set --min-gap`'),
  ACCOUNT_BUSY_RETRY_MS: positiveInt.default(5000).describe('how long an item of a workflow started before job_waits rows (migration 0014) waits before asking again for a slot it lost; newer ones wait as a row, woken by the claim'),
  RESERVATION_TTL_MS: positiveInt.default(60_000).describe('how long the claim\'s reserved slot, or a job\'s slot between two of its items, holds without being renewed'),
  SLAVE_HISTORY_EVENTS: positiveInt.default(2000).describe('a job\'s workflow continues as new once its history passes this many events (Temporal warns at 10,240)'),
  JOB_DEADLINE_MS: positiveInt.default(48 * 3600_000).describe('how long after its INSERT a job may wait for cooldowns; payload `deadlineMinutes` overrides'),
  MODERATION_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
  PROGRESS_THROTTLE_MS: z.coerce.number().int().min(0).default(1000),
  SCHEDULER_CRON: z.string().min(1).superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).default('* * * * *'),
  CANARY_CRON: z.string().min(1).superRefine((cron, ctx) => {
    const problem = cronProblem(cron);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }).optional().describe('unset: no scheduled check; a cron (as SCHEDULER_CRON reads it) runs `accounts check` on every browser account, and a failed check holds the account out of its pool until one passes'),
  RECONCILE_GRACE_MS: positiveInt.optional().describe('unset: half the SCHEDULER_CRON period, at most 30 s'),
  NOTIFY_DEBOUNCE_MS: z.coerce.number().int().min(0).default(0),
  DISPATCHER_SHARDS: z.coerce.number().int().min(1).max(64).default(1).describe('dispatcher workflows per job type that start the claimed jobs\' children; a backlog\'s batches go round them (a sequential type uses one). More only with cores for them: on 2 cores 4 were slower than 1'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30000),
  METRICS_PORT: port.optional().describe('unset: 9464 for the master and npm start, 9465 for a slave; 0 turns the endpoint off'),
  METRICS_HOST: z.string().min(1).default('127.0.0.1').describe('the metrics endpoint listens here; 0.0.0.0 in a container'),
  WEB_HOST: z.string().min(1).default('127.0.0.1').describe('the web console listens here; beyond loopback it needs WEB_TOKEN'),
  WEB_PORT: port.default(8080).describe('0 turns the web console off'),
  WEB_TOKEN: z.string().min(16, 'must be at least 16 characters').optional().describe('secret; required when WEB_HOST is not a loopback address'),
  WEB_ALLOWED_HOSTS: z.string().regex(/^[\w.:\[\]-]+(,[\w.:\[\]-]+)*$/, 'host names separated by commas, e.g. grokflow.internal,10.0.0.5')
    .transform((v) => v.split(',')).optional().describe('names the console answers to besides its own address (a proxy\'s name); unset: only its own'),
  WEB_SESSION_HOURS: z.coerce.number().positive().default(12).describe('a console login lasts this long; changing WEB_TOKEN ends every session'),
  WEB_UPLOAD_MAX_MB: z.coerce.number().positive().default(10).describe('largest image the console\'s add form takes'),
  IMAGES_DIR: z.string().default('images').describe('payload imagePath must be a file in it (set / to allow any); console uploads go to its uploads/'),
  TEMPORAL_UI_URL: z.url().optional().describe('the Temporal Web UI the console links to; unset: the embedded dev server\'s'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_PRETTY: bool.optional().describe('default: pretty when stdout is a terminal'),
}).superRefine((c, ctx) => {
  // Ports one process may listen on at once (npm start runs them all): none may be shared.
  const listening: Array<readonly [string, number | undefined]> = [
    ...(c.TEMPORAL_ADDRESS ? [] : [['TEMPORAL_DEV_PORT', c.TEMPORAL_DEV_PORT], ['TEMPORAL_UI_PORT', c.TEMPORAL_UI_PORT]] as const),
    // The simulator runs unless both the Grok and the xAI API are real ones.
    ...(c.GROK_BASE_URL && c.XAI_API_KEY ? [] : [['SIMULATOR_PORT', c.SIMULATOR_PORT]] as const),
    ['METRICS_PORT', c.METRICS_PORT],
    ['WEB_PORT', c.WEB_PORT],
  ];
  const seen = new Map<number, string>();
  for (const [name, value] of listening) {
    if (!value) continue; // unset or 0: a free port or off
    const other = seen.get(value);
    if (other) {
      ctx.addIssue({ code: 'custom', path: [name], message: `${other} and ${name} are both ${value}; each is a port grokflow listens on, give them different values` });
    }
    seen.set(value, name);
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "unset", as a shell user expects from `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return parsed.data;
}

/** Resolves a configured folder against the project root, so cwd does not matter. */
export function projectPath(p: string): string {
  return path.resolve(path.join(__dirname, '..', '..'), p);
}
