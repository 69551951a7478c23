import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright';
import { ACCOUNT_NAME_RULE, isAccountName } from '../../shared/accountName';
import { CHROMIUM_ARGS, chromiumSandbox, findChromium } from '../../shared/chromium';
import { OutcomeError } from './types';
import { keepLean } from './lean';
import { WarmContexts, type Warm } from './warmContexts';

// One browser per process, launched lazily; a context (a window and its page) per generation
// at a time. Contexts come from the account's saved storage state (AUTH_MODE=storageState: no
// profile copies on disk) or from the account's persistent profile (AUTH_MODE=profile: one
// generation per profile at a time, serialised here). With BROWSER_PREWARM, storageState
// contexts are made ahead and kept between generations (warmContexts.ts); what is never kept:
// a context of a failed or aborted run (its state is unknown; a failure's artifacts are saved
// from it first), one made from a storage state since replaced (a new login), and profile
// mode's (its Chromium holds the profile, which `login` must be able to open).

export interface BrowserSettings {
  chromiumPath?: string;
  headless: boolean;
  authMode: 'storageState' | 'profile';
  accountsDir: string;
  trace: boolean;
  viewport?: { width: number; height: number };
  /**
   * Keep opened contexts per account ready for their next generation (storageState mode): a
   * spare made ahead, and those that ended a generation well (warmContexts.ts).
   */
  prewarm?: boolean;
}

export interface Session {
  account: string;
  context: BrowserContext;
  page: Page;
  tracing: boolean;
  /** Closes the context (idempotent, never throws); releases the profile in profile mode. */
  close(): Promise<void>;
  /**
   * Ends a session whose run went well: its context is kept for the account's next generation
   * when BROWSER_PREWARM allows, else closed. Never throws; close() after it does nothing.
   */
  release(): Promise<void>;
  readonly closed: boolean;
}


export function assertAccountName(account: string): void {
  if (!isAccountName(account)) throw new Error(`invalid account name ${JSON.stringify(account)}: ${ACCOUNT_NAME_RULE}`);
}

/** Changes when the file is rewritten (a new login); '' when it is missing. */
function fileVersion(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    return '';
  }
}

function currentVersion(accountsDir: string, account: string): string {
  return fileVersion(storageStatePath(accountsDir, account));
}

export function storageStatePath(accountsDir: string, account: string): string {
  assertAccountName(account);
  return path.join(accountsDir, `${account}.json`);
}

export function profileDir(accountsDir: string, account: string): string {
  assertAccountName(account);
  return path.join(accountsDir, `${account}.profile`);
}

// Playwright closes the browser on SIGINT/SIGTERM/SIGHUP by default; the slave owns the
// shutdown order instead, so running generations can finish within SHUTDOWN_GRACE_MS.
const OWN_SIGNALS = { handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false } as const;

export const DEFAULT_VIEWPORT = { width: 1280, height: 900 };

function launchOptions(settings: Pick<BrowserSettings, 'chromiumPath' | 'headless'>) {
  const executablePath = findChromium(settings.chromiumPath);
  if (!executablePath) throw new Error('no Chromium found: set CHROMIUM_PATH');
  return { executablePath, args: CHROMIUM_ARGS, chromiumSandbox: chromiumSandbox(), headless: settings.headless, ...OWN_SIGNALS };
}

export function launchChromium(settings: Pick<BrowserSettings, 'chromiumPath' | 'headless'>): Promise<Browser> {
  return chromium.launch(launchOptions(settings));
}

/** A Chromium of its own on an account's persistent profile (AUTH_MODE=profile). */
export function launchProfile(dir: string, settings: Pick<BrowserSettings, 'chromiumPath' | 'headless' | 'viewport'>): Promise<BrowserContext> {
  return chromium.launchPersistentContext(dir, { ...launchOptions(settings), viewport: settings.viewport ?? DEFAULT_VIEWPORT, acceptDownloads: true });
}

/** Reads a storage state without ever echoing its content (JSON errors quote the input). */
function readStorageState(file: string, account: string): NonNullable<BrowserContextOptions['storageState']> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new OutcomeError({ kind: 'authRequired', message: `account ${account} needs a new login (no saved session)` });
  }
  try {
    const parsed = JSON.parse(text) as { cookies?: unknown; origins?: unknown };
    if (!Array.isArray(parsed.cookies)) throw new Error('no cookies');
    return parsed as NonNullable<BrowserContextOptions['storageState']>;
  } catch {
    throw new OutcomeError({ kind: 'authRequired', message: `account ${account} needs a new login (saved session unreadable)` });
  }
}

export class GrokBrowser {
  private browserPromise?: Promise<Browser>;
  private readonly profileLocks = new Map<string, Promise<void>>();
  private readonly sessions = new Set<Session>();
  private readonly warm: WarmContexts;

  constructor(readonly settings: BrowserSettings) {
    this.warm = new WarmContexts((account, version) => this.newWarm(account, version), !!settings.prewarm);
  }

  /** The process's browser, launched on first use (and again if it crashed). */
  browser(): Promise<Browser> {
    if (!this.browserPromise) {
      const p = launchChromium(this.settings);
      this.browserPromise = p;
      p.then(
        (b) => b.on('disconnected', () => {
          if (this.browserPromise === p) this.browserPromise = undefined;
        }),
        () => {
          if (this.browserPromise === p) this.browserPromise = undefined;
        },
      );
    }
    return this.browserPromise;
  }

  /** The launched browser, if any (no launch). */
  async current(): Promise<Browser | undefined> {
    return this.browserPromise?.catch(() => undefined);
  }

  /** Sessions in use by a run. */
  openSessions(): number {
    return this.sessions.size;
  }

  /** Opened contexts not in use: spares and kept ones (warmContexts.ts). */
  readyContexts(): number {
    return this.warm.count();
  }

  async openSession(account: string, signal?: AbortSignal): Promise<Session> {
    signal?.throwIfAborted();
    let context: BrowserContext;
    let page: Page | undefined;
    let version: string | undefined;
    let release = () => {};
    if (this.settings.authMode === 'profile') {
      const dir = profileDir(this.settings.accountsDir, account);
      if (!fs.existsSync(dir)) {
        throw new OutcomeError({ kind: 'authRequired', message: `account ${account} needs a new login (no profile)` });
      }
      release = await this.lockProfile(dir, signal);
      try {
        context = await launchProfile(dir, this.settings);
      } catch (err) {
        release();
        throw err;
      }
    } else {
      version = fileVersion(storageStatePath(this.settings.accountsDir, account));
      ({ context, page } = await this.warm.take(account, version, signal));
    }
    if (this.settings.trace) await context.tracing.start({ screenshots: true, snapshots: true }).catch(() => {});
    if (!page) {
      page = context.pages()[0] ?? (await context.newPage());
      await keepLean(page);
    }
    let closed = false;
    let closing: Promise<void> | undefined;
    const sessions = this.sessions;
    const end = (keep: boolean): Promise<void> => {
      if (!closing) {
        closed = true;
        // Kept: handed to warmContexts at once (it leaves Grok's page on its own time).
        const kept = keep && this.mayKeep() && version !== undefined && this.warm.keep(account, { context, page: page!, version }, currentVersion(this.settings.accountsDir, account));
        if (kept) sessions.delete(session);
        closing = (kept ? Promise.resolve() : context.close().catch(() => {})).finally(() => {
          sessions.delete(session);
          release();
        });
      }
      return closing;
    };
    const session: Session = {
      account,
      context,
      page,
      tracing: this.settings.trace,
      get closed() {
        return closed;
      },
      close: () => end(false),
      release: () => end(true),
    };
    this.sessions.add(session);
    if (signal?.aborted) {
      await session.close();
      signal.throwIfAborted();
    }
    return session;
  }

  private mayKeep(): boolean {
    return !!this.settings.prewarm && this.settings.authMode === 'storageState';
  }

  /** A new context from the account's storage state, its page open and lean (a new page costs a renderer process). */
  private async newWarm(account: string, version: string): Promise<Warm> {
    const state = readStorageState(storageStatePath(this.settings.accountsDir, account), account);
    const browser = await this.browser();
    const context = await browser.newContext({ storageState: state, viewport: this.settings.viewport ?? DEFAULT_VIEWPORT, acceptDownloads: true });
    const page = await context.newPage();
    // Lasts across the page's navigations: once per context, kept or not.
    await keepLean(page);
    return { context, page, version };
  }

  private async lockProfile(dir: string, signal?: AbortSignal): Promise<() => void> {
    const key = path.resolve(dir);
    for (;;) {
      const held = this.profileLocks.get(key);
      if (!held) break;
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        void held.then(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
    let release!: () => void;
    this.profileLocks.set(key, new Promise<void>((r) => (release = r)));
    return () => {
      this.profileLocks.delete(key);
      release();
    };
  }

  async close(): Promise<void> {
    await this.warm.close();
    await Promise.all([...this.sessions].map((s) => s.close()));
    const b = await this.current();
    this.browserPromise = undefined;
    await b?.close().catch(() => {});
  }
}
