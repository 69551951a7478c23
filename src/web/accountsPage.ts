import type { Config } from '../shared/config';
import type { Db } from '../shared/db/client';
import { accountStatuses } from '../slave/accounts/status';
import { formatUsd } from '../backends/api/cost';
import { grokLeft } from '../cli/accountsCommands';
import { html, type Html } from './html';

/** The same figures as `accounts list`; whether a session is saved, never what is in it. */
export async function accountsPage(db: Db, config: Config): Promise<Html> {
  const view = await accountStatuses(db, config);
  return html`
<h1>Accounts</h1>
<table class="accounts">
  <thead><tr><th>account</th><th>kind</th><th>pool</th><th>session</th><th>cooldown</th><th>quota used</th><th>quota left</th><th>grok left</th><th>check</th><th>budget</th><th>in flight</th><th>last error</th></tr></thead>
  <tbody>${view.map((a) => html`<tr data-account="${a.name}">
    <td><a href="/?account=${encodeURIComponent(a.name)}">${a.name}</a></td>
    <td class="kind">${a.kind}</td>
    <td class="pool">${a.pool}</td>
    <td>${a.kind === 'api' ? 'XAI_API_KEY' : a.loggedIn ? 'saved' : html`<span class="warn">missing</span>`}</td>
    <td class="cooldown">${a.cooldownSeconds ? `${a.cooldownSeconds} s` : ''}</td>
    <td class="used">${a.usedToday}${a.dailyQuota === null ? '' : ` of ${a.dailyQuota}`}</td>
    <td class="left">${a.quotaLeft === null ? 'unlimited' : a.quotaLeft}</td>
    <td class="grok-left" title="${a.grokQuotaReadAt ? `Grok's quota_info, read ${a.grokQuotaReadAt}` : 'not read yet'}">${grokLeft(a)}</td>
    <td class="check">${a.canaryOk === null ? '' : a.canaryOk ? 'ok' : html`<span class="warn" title="${a.canaryError ?? ''}">failed</span>`}</td>
    <td class="budget">${a.kind !== 'api' ? '' : `${formatUsd(a.spentTodayTicks)} spent${a.dailyBudgetTicks === null ? '' : ` of ${formatUsd(a.dailyBudgetTicks)}`}`}</td>
    <td class="in-flight">${a.inFlight}${Number.isFinite(a.concurrency) ? ` of ${a.concurrency}` : ''}</td>
    <td class="last-error">${a.lastAuthError ?? a.lastError ?? ''}</td>
  </tr>`)}</tbody>
</table>
${view.length ? '' : html`<p class="empty">No accounts yet: <code>npx grokflow accounts login &lt;name&gt;</code>.</p>`}`;
}
