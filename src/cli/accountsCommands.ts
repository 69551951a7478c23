import { accounts } from '../shared/db/schema';
import { accountStatuses } from '../slave/activities/accounts';
import { grokTarget } from '../shared/grokTarget';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';
import { json, table, truncate } from './format';

type Out = (text: string) => void;

export async function listAccounts(ctx: CliContext, o: { json?: boolean }, out: Out): Promise<void> {
  const view = await accountStatuses(ctx.db, grokTarget(ctx.config).accountsDir);
  if (o.json) return out(json(view));
  out(table(['account', 'storage state', 'cooldown', 'quota left', 'used today', 'in flight', 'last auth error'],
    view.map((a) => [a.name, a.loggedIn ? 'saved' : 'missing', a.cooldownSeconds ? `${a.cooldownSeconds} s` : '',
      a.quotaLeft === null ? 'unlimited' : `${a.quotaLeft}/${a.dailyQuota}`, a.usedToday, a.inFlight, truncate(a.lastAuthError, 40)])));
}

export async function setAccount(ctx: CliContext, name: string, o: { dailyQuota?: string; clearCooldown?: boolean }, out: Out): Promise<void> {
  checkAccountName(name);
  if (o.dailyQuota !== undefined && o.dailyQuota !== 'none' && !/^\d{1,9}$/.test(o.dailyQuota)) {
    throw new CliError(`--daily-quota must be a whole number ≥ 0, or "none", got "${o.dailyQuota}"`, ExitCode.Usage);
  }
  const quota = o.dailyQuota === undefined ? undefined : o.dailyQuota === 'none' ? null : Number(o.dailyQuota);
  const set = {
    ...(quota !== undefined ? { dailyQuota: quota } : {}),
    ...(o.clearCooldown ? { cooldownUntil: null } : {}),
  };
  if (Object.keys(set).length === 0) throw new CliError('nothing to set: give --daily-quota or --clear-cooldown', ExitCode.Usage);
  await ctx.db.insert(accounts).values({ name, ...set }).onConflictDoUpdate({ target: accounts.name, set });
  out(`account ${name} updated`);
}

