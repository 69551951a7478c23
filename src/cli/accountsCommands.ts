import { accounts } from '../shared/db/schema';
import { ACCOUNT_NAME_RULE, isAccountName } from '../shared/accountName';
import { accountStatuses } from '../slave/accounts/status';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';
import { json, table, truncate } from './format';
import { formatUsd, usdToTicks } from '../backends/api/cost';
import { setApiBudget } from '../slave/accounts/budget';

type Out = (text: string) => void;

export async function listAccounts(ctx: CliContext, o: { json?: boolean }, out: Out): Promise<void> {
  const view = await accountStatuses(ctx.db, ctx.config);
  if (o.json) return out(json(view));
  out(table(['account', 'kind', 'pool', 'storage state', 'in flight', 'cooldown', 'quota used', 'quota left', 'grok left', 'check', 'budget left', 'spent today', 'min gap', 'last error'],
    view.map((a) => [a.name, a.kind, a.pool, a.kind === 'api' ? 'XAI_API_KEY' : a.loggedIn ? 'saved' : 'missing', `${a.inFlight}/${Number.isFinite(a.concurrency) ? a.concurrency : 'no limit'}`,
      a.cooldownUntil ? `${a.cooldownSeconds} s (until ${a.cooldownUntil})` : '',
      a.usedToday, a.quotaLeft === null ? 'unlimited' : `${a.quotaLeft}/${a.dailyQuota}`,
      grokLeft(a), a.canaryOk === null ? '' : a.canaryOk ? 'ok' : `FAILED ${truncate(a.canaryError, 30)}`,
      a.kind !== 'api' ? '' : a.budgetLeftTicks === null ? 'unlimited' : `${formatUsd(a.budgetLeftTicks)}/${formatUsd(a.dailyBudgetTicks!)}`,
      a.kind === 'api' ? formatUsd(a.spentTodayTicks) : '', `${a.minGapMs / 1000} s`,
      truncate(a.lastAuthError ?? a.lastError, 40)])));
}

/** What Grok's quota_info said is left ('3/50'); blank when never read or no longer current. */
export function grokLeft(a: { grokQuotaLeft: number | null; grokQuotaTotal: number | null }): string {
  if (a.grokQuotaLeft === null) return '';
  return a.grokQuotaTotal === null ? String(a.grokQuotaLeft) : `${a.grokQuotaLeft}/${a.grokQuotaTotal}`;
}

interface SetOptions {
  dailyQuota?: string;
  dailyBudget?: string;
  clearCooldown?: boolean;
  pool?: string;
  concurrency?: string;
  minGap?: string;
}

/** A whole number option, or "none"/"default" (→ null); anything else is a usage error naming the option. */
function wholeOrNull(option: string, value: string | undefined, min: number, word: 'none' | 'default', max?: number): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === word) return null;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || (max !== undefined && Number(value) > max)) {
    const range = max !== undefined ? `from ${min} to ${max}` : `≥ ${min}`;
    throw new CliError(`${option} must be a whole number ${range}, or "${word}", got "${value}"`, ExitCode.Usage);
  }
  return Number(value);
}

export async function setAccount(ctx: CliContext, name: string, o: SetOptions, out: Out): Promise<void> {
  checkAccountName(name);
  if (o.dailyBudget !== undefined) {
    // An amount in dollars, exact to the cent's hundredth; it makes the account an api account.
    if (o.dailyBudget !== 'none' && !/^\d{1,9}(\.\d{1,4})?$/.test(o.dailyBudget)) {
      throw new CliError(`--daily-budget must be an amount in USD such as 20 or 2.50, or "none", got "${o.dailyBudget}"`, ExitCode.Usage);
    }
    await setApiBudget(ctx.db, name, o.dailyBudget === 'none' ? null : usdToTicks(Number(o.dailyBudget)));
    out(`account ${name} is an api account, daily budget ${o.dailyBudget === 'none' ? 'none' : `$${o.dailyBudget}`}`);
    const more = [o.dailyQuota, o.pool, o.concurrency, o.minGap].some((v) => v !== undefined) || o.clearCooldown;
    if (!more) return;
  }
  if (o.pool !== undefined && !isAccountName(o.pool)) throw new CliError(`--pool: ${ACCOUNT_NAME_RULE}, got "${o.pool}"`, ExitCode.Usage);
  const quota = wholeOrNull('--daily-quota', o.dailyQuota, 0, 'none');
  // 1–100, as the seed's batch runner allowed (ACCOUNT_CONCURRENCY's range).
  const concurrency = wholeOrNull('--concurrency', o.concurrency, 1, 'default', 100);
  const minGapMs = wholeOrNull('--min-gap', o.minGap, 0, 'default');
  const set = {
    ...(quota !== undefined ? { dailyQuota: quota } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(minGapMs !== undefined ? { minGapMs } : {}),
    ...(o.pool !== undefined ? { pool: o.pool } : {}),
    ...(o.clearCooldown ? { cooldownUntil: null } : {}),
  };
  if (Object.keys(set).length === 0) {
    throw new CliError('nothing to set: give --daily-quota, --daily-budget, --pool, --concurrency, --min-gap or --clear-cooldown', ExitCode.Usage);
  }
  await ctx.db.insert(accounts).values({ name, ...set }).onConflictDoUpdate({ target: accounts.name, set });
  if (concurrency && concurrency > 1 && ctx.config.AUTH_MODE === 'profile') {
    out(`note: AUTH_MODE=profile runs one generation per account at a time; --concurrency ${concurrency} applies in storageState mode`);
  }
  out(`account ${name} updated`);
}
