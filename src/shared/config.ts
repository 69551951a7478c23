import path from 'node:path';
import { z } from 'zod';

// Every setting comes from the environment, is validated here and nowhere else, and is
// listed in the README's configuration table with the same default.
const bool = z.stringbool({ truthy: ['1', 'true', 'yes', 'on'], falsy: ['0', 'false', 'no', 'off', ''] });
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

export const configSchema = z.object({
  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/grokflow'),
  TEMPORAL_ADDRESS: z.string().min(1).optional().describe('unset: grokflow starts an embedded dev server'),
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
  SIMULATOR_UI_DRIFT: bool.default(false),
  CHROMIUM_PATH: z.string().min(1).optional(),
  BROWSER_HEADLESS: bool.default(true),
  BROWSER_PREWARM: bool.default(true).describe('keep one opened context per account ready for its next generation'),
  AUTH_MODE: z.enum(['storageState', 'profile']).default('storageState'),
  ACCOUNTS_DIR: z.string().default('accounts'),
  DEFAULT_ACCOUNT: z.string().min(1).default('default'),
  DOWNLOADS_DIR: z.string().default('downloads'),
  ARTIFACTS_DIR: z.string().default('artifacts'),
  PLAYWRIGHT_TRACE: bool.default(false),
  SLAVE_CONCURRENT_ACTIVITIES: positiveInt.default(5),
  ITEM_CONCURRENCY: positiveInt.default(1),
  RATE_LIMIT_COOLDOWN_MS: z.coerce.number().int().positive().default(15 * 60_000).describe('used when Grok does not say how long'),
  MODERATION_MAX_RETRIES: z.coerce.number().int().min(0).default(3),
  PROGRESS_THROTTLE_MS: z.coerce.number().int().min(0).default(1000),
  SCHEDULER_CRON: z.string().min(1).default('* * * * *'),
  NOTIFY_DEBOUNCE_MS: z.coerce.number().int().min(0).default(50),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(30000),
  METRICS_PORT: port.default(9464).describe('0 turns the metrics endpoint off'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_PRETTY: bool.optional().describe('default: pretty when stdout is a terminal'),
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
