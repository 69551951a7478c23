import { grokTarget } from '../shared/grokTarget';
import { runCanary } from '../backends/browser/canary';
import { recordCheck } from '../slave/accounts/canaryState';
import { DEFAULT_TIMEOUTS } from '../backends/browser/driver';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';
import { json, table } from './format';

type Out = (text: string) => void;

/** `accounts check <name>`: the canary — logged in, and every selector found, without generating. */
export async function checkAccount(ctx: CliContext, name: string, o: { post?: string; json?: boolean; timeout?: string }, out: Out): Promise<void> {
  checkAccountName(name);
  const actionMs = Number(o.timeout ?? 3000);
  if (!Number.isInteger(actionMs) || actionMs <= 0) throw new CliError(`--timeout must be a positive number of milliseconds, not ${o.timeout}`, ExitCode.Usage);
  const config = ctx.config;
  const target = grokTarget(config);
  const report = await runCanary(
    {
      chromiumPath: config.CHROMIUM_PATH,
      headless: config.BROWSER_HEADLESS,
      authMode: config.AUTH_MODE,
      accountsDir: target.accountsDir,
      trace: false,
    },
    name,
    { baseUrl: target.baseUrl, postUrl: o.post, actionMs, navigationMs: DEFAULT_TIMEOUTS.navigationMs },
  );
  // The result on the account row: a failed check holds the account out of its pool until one passes.
  // A check run with no database at hand (selectors only) still answers; it says it kept nothing.
  const kept = await recordCheck(ctx.db, name, report).then(() => undefined, (err: unknown) => (err as Error).message);
  if (kept !== undefined) process.stderr.write(`account ${name}: the check's result was not recorded on the account row (${kept})\n`);
  if (o.json) out(json(report));
  else {
    out(`account ${name} on ${target.baseUrl}: ${report.loggedIn ? 'logged in' : 'NOT logged in'}${report.quota ? `, Grok says ${report.quota.left}${report.quota.total !== undefined ? `/${report.quota.total}` : ''} generations left` : ''}`);
    if (report.rows.length > 0) out(table(['page', 'selector', 'found by', 'ms'], report.rows.map((r) => [r.page, r.selector, r.via ?? r.note ?? 'MISSING', r.ms])));
  }
  if (report.missing.length > 0) throw new CliError(`account ${name}: missing ${report.missing.join('; ')}`, ExitCode.Failure);
}

