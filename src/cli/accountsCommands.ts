import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { accounts } from '../shared/db/schema';
import { grokTarget } from '../shared/grokTarget';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';
import { json, table, truncate } from './format';

type Out = (text: string) => void;

export async function listAccounts(ctx: CliContext, o: { json?: boolean }, out: Out): Promise<void> {
  const { rows } = await ctx.db.execute<{ name: string; cooldown_s: number | null; daily_quota: number | null; used: number; last_auth_error: string | null }>(sql`
    SELECT a.name, a.daily_quota, a.last_auth_error,
           greatest(0, extract(epoch FROM a.cooldown_until - now()))::int AS cooldown_s,
           (SELECT count(*)::int FROM job_items i JOIN jobs j ON j.id = i.job_id
             WHERE j.account = a.name AND i.status = 'COMPLETED' AND i.updated_at >= date_trunc('day', now())) AS used
      FROM ${accounts} a ORDER BY a.name`);
  // Accounts that logged in but never ran a job exist only as files.
  const dir = grokTarget(ctx.config).accountsDir;
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.basename(f, '.json')) : [];
  const names = [...new Set([...rows.map((r) => r.name), ...files])].sort();
  const view = names.map((name) => {
    const r = rows.find((x) => x.name === name);
    return {
      name,
      loggedIn: files.includes(name),
      cooldownSeconds: r?.cooldown_s ?? 0,
      dailyQuota: r?.daily_quota ?? null,
      usedToday: r?.used ?? 0,
      quotaLeft: r?.daily_quota == null ? null : Math.max(0, r.daily_quota - r.used),
      lastAuthError: r?.last_auth_error ?? null,
    };
  });
  if (o.json) return out(json(view));
  out(table(['account', 'storage state', 'cooldown', 'quota left', 'used today', 'last auth error'],
    view.map((a) => [a.name, a.loggedIn ? 'saved' : 'missing', a.cooldownSeconds ? `${a.cooldownSeconds} s` : '',
      a.quotaLeft === null ? 'unlimited' : `${a.quotaLeft}/${a.dailyQuota}`, a.usedToday, truncate(a.lastAuthError, 40)])));
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

