import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_VIEWPORT, launchChromium, launchProfile, profileDir, storageStatePath } from './browser';
import { anyOf, pick, SEL, URLS } from './selectors';
import { pollUntil } from './util';

export interface LoginOptions {
  headless: boolean;
  accountsDir: string;
  /** profile: sign in inside the account's persistent profile, which keeps the session. */
  authMode?: 'storageState' | 'profile';
  chromiumPath?: string;
  /** Fill the sign-in form (the simulator, tests); without it the user signs in by hand (headed). */
  credentials?: { username: string; password: string };
  /** How long to wait for the user to finish (default 10 min; 30 s with credentials). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called once the sign-in page is shown (e.g. to tell the user what to do). */
  onReady?: (signInUrl: string) => void;
}

export class LoginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginError';
  }
}

/**
 * Opens the sign-in page, waits until the account is logged in (filling the form when
 * credentials are given, else waiting for the user), and saves the storage state to
 * `<accountsDir>/<account>.json` with mode 0600. Returns that path. Neither the password nor
 * any cookie ever appears in an error or a log.
 */
export async function login(account: string, baseUrl: string, opts: LoginOptions): Promise<{ savedTo: string }> {
  const target = storageStatePath(opts.accountsDir, account);
  const timeoutMs = opts.timeoutMs ?? (opts.credentials ? 30_000 : 10 * 60_000);
  const profile = opts.authMode === 'profile' ? profileDir(opts.accountsDir, account) : undefined;
  if (profile) await fs.promises.mkdir(profile, { recursive: true, mode: 0o700 });
  const browser = profile ? undefined : await launchChromium({ chromiumPath: opts.chromiumPath, headless: opts.headless });
  const context = profile
    ? await launchProfile(profile, { chromiumPath: opts.chromiumPath, headless: opts.headless })
    : await browser!.newContext({ viewport: DEFAULT_VIEWPORT });
  const close = () => (browser ? browser.close() : context.close()).catch(() => {});
  const onAbort = () => void close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const signInUrl = URLS.signIn(baseUrl);
    await page.goto(signInUrl, { waitUntil: 'domcontentloaded', timeout: 30_000 });
    opts.onReady?.(signInUrl);
    if (opts.credentials) {
      const user = await pick(page, SEL.username);
      const pass = await pick(page, SEL.password);
      if (!user || !pass) throw new LoginError(`account ${account}: the sign-in form has no username/password fields`);
      await user.fill(opts.credentials.username);
      await pass.fill(opts.credentials.password);
      const submit = await pick(page, SEL.signInSubmit);
      if (submit) await submit.click();
      else await pass.press('Enter');
    }
    const base = new URL(baseUrl);
    await pollUntil(async () => {
      const url = new URL(page.url());
      const onBase = url.host === base.host && !URLS.isSignIn(url.toString());
      if (onBase) {
        const wall = (await anyOf(page, SEL.signInLink).count()) > 0 && (await anyOf(page, SEL.signUpLink).count()) > 0;
        if (!wall) return true;
      }
      if (opts.credentials && (await anyOf(page, SEL.signInError).count()) > 0) {
        throw new LoginError(`account ${account}: sign-in refused (wrong username or password)`);
      }
      return undefined;
    }, {
      timeoutMs, pollMs: 250, signal: opts.signal,
      onTimeout: () => new LoginError(`account ${account}: not logged in after ${Math.round(timeoutMs / 1000)} s`),
    });
    // The profile keeps the session on disk itself; the storage state file is for the other mode.
    if (profile) return { savedTo: profile };
    const state = await context.storageState();
    await fs.promises.mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    const tmp = `${target}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, JSON.stringify(state), { mode: 0o600 });
    await fs.promises.chmod(tmp, 0o600);
    await fs.promises.rename(tmp, target);
    return { savedTo: target };
  } catch (err) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (err instanceof LoginError) throw err;
    throw new LoginError(`account ${account}: login failed (${err instanceof Error ? err.name : 'error'})`);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await close();
  }
}
