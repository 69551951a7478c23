import { sql } from 'drizzle-orm';
import { runCanary } from '../../backends/browser/canary';
import { DEFAULT_TIMEOUTS, driverSettingsFromConfig } from '../../backends/browser/driver';
import { canaryChecksTotal } from '../../shared/metrics';
import { recordCheck } from '../accounts/canaryState';
import { savedSessions } from '../accounts/logins';
import type { CanaryResult } from '../canary';
import type { SlaveDeps } from './deps';

/** The scheduled canary's activities (workflow: src/slave/canary.ts). */
export function canaryActivities({ db, config, logger }: SlaveDeps) {
  return {
    /** Every browser account with a saved session (api accounts have no page to check). */
    async canaryAccounts(): Promise<string[]> {
      const { rows } = await db.execute<{ name: string }>(sql`SELECT name FROM accounts WHERE kind = 'api'`);
      const api = new Set(rows.map((r) => r.name));
      return savedSessions(config).filter((name) => !api.has(name)).sort();
    },

    /** `accounts check <account>` without a post of its own: the result on the account row and in the metric. */
    async checkAccountCanary({ account }: { account: string }): Promise<CanaryResult> {
      const settings = driverSettingsFromConfig(config);
      const report = await runCanary(settings, account, {
        baseUrl: settings.baseUrl,
        actionMs: DEFAULT_TIMEOUTS.actionMs,
        navigationMs: DEFAULT_TIMEOUTS.navigationMs,
        // An account with no post yet has no post page to check: that is not its failure.
        postOptional: true,
      });
      await recordCheck(db, account, report);
      const ok = report.missing.length === 0;
      canaryChecksTotal.inc({ account, result: ok ? 'ok' : 'failed' });
      const log = logger.child({ account });
      if (ok) log.info({ quotaLeft: report.quota?.left }, 'account check passed');
      else log.warn({ missing: report.missing }, 'account check failed: the account is held out of its pool until a check passes');
      return { account, ok, missing: report.missing };
    },
  };
}
