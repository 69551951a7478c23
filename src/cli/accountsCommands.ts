import { accounts } from '../shared/db/schema';
import { accountStatuses } from '../slave/activities/accounts';
import { grokTarget } from '../shared/grokTarget';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';
import { json, table, truncate } from './format';
import { formatUsd, usdToTicks } from '../backends/api/cost';
import { setApiBudget } from '../slave/activities/budget';

type Out = (text: string) => void;

export async function listAccounts(ctx: CliContext, o: { json?: boolean }, out: Out): Promise<void> {
  const view = await accountStatuses(ctx.db, grokTarget(ctx.config).accountsDir);
  if (o.json) return out(json(view));
  out(table(['account', 'kind', 'storage state', 'cooldown', 'quota left', 'used today', 'budget left', 'spent today', 'in flight', 'last auth error'],
    view.map((a) => [a.name, a.kind, a.kind === 'api' ? 'XAI_API_KEY' : a.loggedIn ? 'saved' : 'missing', a.cooldownSeconds ? `${a.cooldownSeconds} s` : '',
      a.quotaLeft === null ? 'unlimited' : `${a.quotaLeft}/${a.dailyQuota}`, a.usedToday,
      a.kind !== 'api' ? '' : a.budgetLeftTicks === null ? 'unlimited' : `${formatUsd(a.budgetLeftTicks)}/${formatUsd(a.dailyBudgetTicks!)}`,
      a.kind === 'api' ? formatUsd(a.spentTodayTicks) : '', a.inFlight, truncate(a.lastAuthError, 40)])));
}

export async function setAccount(ctx: CliContext, name: string, o: { dailyQuota?: string; dailyBudget?: string; clearCooldown?: boolean }, out: Out): Promise<void> {
  checkAccountName(name);
  if (o.dailyBudget !== undefined) {
    // An amount in dollars, exact to the cent's hundredth; it makes the account an api account.
    if (o.dailyBudget !== 'none' && !/^\d{1,9}(\.\d{1,4})?$/.test(o.dailyBudget)) {
      throw new CliError(`--daily-budget must be an amount in USD such as 20 or 2.50, or "none", got "${o.dailyBudget}"`, ExitCode.Usage);
    }
    await setApiBudget(ctx.db, name, o.dailyBudget === 'none' ? null : usdToTicks(Number(o.dailyBudget)));
    out(`account ${name} is an api account, daily budget ${o.dailyBudget === 'none' ? 'none' : `$${o.dailyBudget}`}`);
    if (o.dailyQuota === undefined && !o.clearCooldown) return;
  }
  if (o.dailyQuota !== undefined && o.dailyQuota !== 'none' && !/^\d{1,9}$/.test(o.dailyQuota)) {
    throw new CliError(`--daily-quota must be a whole number ≥ 0, or "none", got "${o.dailyQuota}"`, ExitCode.Usage);
  }
  const quota = o.dailyQuota === undefined ? undefined : o.dailyQuota === 'none' ? null : Number(o.dailyQuota);
  const set = {
    ...(quota !== undefined ? { dailyQuota: quota } : {}),
    ...(o.clearCooldown ? { cooldownUntil: null } : {}),
  };
  if (Object.keys(set).length === 0) throw new CliError('nothing to set: give --daily-quota, --daily-budget or --clear-cooldown', ExitCode.Usage);
  await ctx.db.insert(accounts).values({ name, ...set }).onConflictDoUpdate({ target: accounts.name, set });
  out(`account ${name} updated`);
}

