import { eq, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../../shared/db/client';
import { accounts } from '../../shared/db/schema';
import { formatUsd } from '../../backends/api/cost';
import { estimateDetail, itemEstimateTicks, type Prices } from '../../backends/api/videoPlan';
import type { ItemPlan } from '../plan';

// The daily USD budget of an api account (the seed's budget rules): checked before a job
// starts (its estimate must fit what is left) and before each item starts (nothing is
// started once the day's spending reached the budget). Amounts are ticks, exact.

export interface Budget {
  limitTicks: number;
  /** What this account's items cost since midnight (the database's clock). */
  spentTicks: number;
  leftTicks: number;
}

/** SQL: what the items of the account named by `name` (an SQL expression) cost since midnight, in ticks. */
export function spentTodaySql(name: SQL): SQL {
  return sql`(SELECT coalesce(sum(i.cost_ticks), 0) FROM job_items i JOIN jobs j ON j.id = i.job_id
    WHERE coalesce(i.account, j.account) = ${name} AND i.cost_ticks IS NOT NULL
      AND i.updated_at >= date_trunc('day', now()))`;
}

/** The account's daily budget (null: none) and what its items cost since midnight (the database's clock). */
export async function budgetUsage(db: Db, name: string): Promise<{ limitTicks: number | null; spentTicks: number }> {
  const { rows } = await db.execute<{ limit: string | null; spent: string | null }>(sql`
    SELECT (SELECT daily_budget_ticks FROM accounts WHERE name = ${name}) AS limit, ${spentTodaySql(sql`${name}`)} AS spent`);
  const limit = rows[0]?.limit;
  return { limitTicks: limit === null || limit === undefined ? null : Number(limit), spentTicks: Number(rows[0]?.spent ?? 0) };
}

/** The account's daily budget and today's spending; null when it has no budget. */
export async function budgetOf(db: Db, name: string): Promise<Budget | null> {
  const { limitTicks, spentTicks } = await budgetUsage(db, name);
  if (limitTicks === null) return null;
  return { limitTicks, spentTicks, leftTicks: Math.max(0, limitTicks - spentTicks) };
}

/** The pre-flight refusal, with the numbers: undefined when the estimate fits. */
export function budgetRefusal(account: string, budget: Budget, estimate: { ticks: number; detail: string }): string | undefined {
  if (estimate.ticks <= budget.leftTicks) return undefined;
  return `account ${account} has ${formatUsd(budget.leftTicks)} left of its daily budget of ${formatUsd(budget.limitTicks)} `
    + `(${formatUsd(budget.spentTicks)} spent today); the job is estimated at ${formatUsd(estimate.ticks)} (${estimate.detail})`;
}

/** Makes `name` an api account with this daily budget (null: none). */
export async function setApiBudget(db: Db, name: string, dailyBudgetTicks: number | null): Promise<void> {
  await db
    .insert(accounts)
    .values({ name, kind: 'api', dailyBudgetTicks })
    .onConflictDoUpdate({ target: accounts.name, set: { kind: 'api', dailyBudgetTicks, updatedAt: sql`now()` } });
}

/** What a job of `count` items of this plan is expected to cost, and how that was worked out. */
/**
 * What a job of `count` items of this plan is expected to cost, and how that was worked out:
 * each video's seconds at its model × resolution price (XAI_VIDEO_PRICES), an extension at its
 * capped 720p. A batch is estimated at the direct price: xAI's discount shows in the recorded cost.
 */
export function jobEstimate(item: ItemPlan, count: number, prices: Prices, defaultModel = 'grok-imagine-video'): { ticks: number; detail: string } {
  const video = item.video && { ...item.video, model: item.video.model ?? defaultModel };
  const each = itemEstimateTicks(item.kind, prices, video);
  if (item.kind === 'image' || !video) return { ticks: each * count, detail: `${count} image(s) × ${formatUsd(each)}` };
  return { ticks: each * count, detail: `${count} video(s) × ${estimateDetail(prices, video)}` };
}

/**
 * An API job's account must be an api account: one the database does not know yet becomes
 * one (without a budget); a Grok login's name is refused, naming the fix.
 */
export async function apiAccountProblem(db: Db, name: string): Promise<string | undefined> {
  await db.insert(accounts).values({ name, kind: 'api' }).onConflictDoNothing();
  const [row] = await db.select({ kind: accounts.kind }).from(accounts).where(eq(accounts.name, name));
  if (row?.kind === 'api') return undefined;
  return `account ${name} is a Grok login (kind ${row?.kind ?? 'unknown'}); an API job needs an api account: name one in payload.account, or leave it out for XAI_ACCOUNT`;
}
