import { sql } from 'drizzle-orm';
import { NOTIFY_CAPACITY } from '../shared/jobs/notifications';
import { accounts } from '../shared/db/schema';
import { grokTarget } from '../shared/grokTarget';
import { login, LoginError } from '../backends/browser/login';
import { checkAccountName, CliError, ExitCode, type CliContext } from './context';

type Out = (text: string) => void;

/**
 * Saves an account's storage state. On grok.com the user signs in by hand in a visible
 * window; the simulator's form can be filled headless. The password comes from
 * GROK_LOGIN_PASSWORD, never from argv, where `ps` would show it.
 */
export async function loginAccount(ctx: CliContext, name: string, o: { headless?: boolean; user?: string }, out: Out): Promise<void> {
  checkAccountName(name);
  const target = grokTarget(ctx.config);
  const password = process.env.GROK_LOGIN_PASSWORD;
  if (o.headless && !o.user) {
    throw new CliError('--headless needs --user <user> and GROK_LOGIN_PASSWORD in the environment (a simulator account)', ExitCode.Usage);
  }
  if (o.user && !password) {
    throw new CliError(`--user ${o.user} needs the password in GROK_LOGIN_PASSWORD (never on the command line)`, ExitCode.Usage);
  }
  const headless = o.headless ?? false;
  if (!headless && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    throw new CliError('a headed login needs a display (DISPLAY is unset); run it on a desktop, or use --headless --user with GROK_LOGIN_PASSWORD against the simulator', ExitCode.Failure);
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort(new CliError('login cancelled')));
  const where = `${target.baseUrl}${target.simulated ? ' (the bundled simulator)' : ''}`;
  let savedTo: string;
  try {
    ({ savedTo } = await login(name, target.baseUrl, {
      headless,
      accountsDir: target.accountsDir,
      authMode: ctx.config.AUTH_MODE,
      chromiumPath: ctx.config.CHROMIUM_PATH,
      credentials: o.user && password ? { username: o.user, password } : undefined,
      signal: stop.signal,
      onReady: (url) => out(o.user
        ? `signing in to ${where} as ${o.user}${headless ? ' (headless)' : ''}…`
        : `sign in at ${url} in the browser window (${where}); waiting…`),
    }));
  } catch (err) {
    // LoginError messages name the account and never carry the password or a cookie.
    if (err instanceof LoginError) throw new CliError(err.message, ExitCode.Failure);
    throw err;
  }
  // The path only (never the content), and a fresh login clears the last auth error.
  const set = { storageState: savedTo, lastAuthError: null };
  await ctx.db.insert(accounts).values({ name, ...set }).onConflictDoUpdate({ target: accounts.name, set });
  // A saved session makes the account a pool member: the master claims for it at once
  // (the row's triggers see a new account or a cleared login error, not a new file).
  await ctx.db.execute(sql.raw(NOTIFY_CAPACITY));
  const kept = ctx.config.AUTH_MODE === 'profile' ? 'profile kept in' : 'session saved to';
  out(`account ${name} logged in; ${kept} ${savedTo} (mode ${ctx.config.AUTH_MODE === 'profile' ? '0700' : '0600'})`);
}
