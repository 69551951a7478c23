import type { BrowserContext, Page } from 'playwright';

// Opened contexts not in use, per account (storageState mode with BROWSER_PREWARM): a spare
// made ahead while a generation runs, and contexts that ended a generation well, kept for the
// account's next one instead of closed.
//
// Why keep them (issue 24, CPU per session): a new context costs a window, a renderer process
// and a first page load in a fresh process (~0.5 CPU-s of a generation's ~1.8 here, measured
// by `npm run bench -- sessions`); a kept one costs at most a navigation to about:blank. Kept
// on about:blank so that nothing of Grok's page (scripts, timers, connections) runs while it
// waits — once it has waited LINGER_MS: a context taken again before (a slave with work
// queued, a burst after a burst) goes from one post straight to the next, and the blank page
// in between (a document and Playwright's setup of it: ~0.1 CPU-s a generation) is not paid.
//
// Taken most recently kept first. A spare is made only when the account has nothing left
// ready after a take that was not a kept context: a steady run of one generation after
// another reuses one context and keeps one spare; a burst of N concurrent generations makes N,
// and keeps them for the burst after it. A kept context unused for IDLE_CONTEXT_MS is closed
// unless it is the account's last ready one.

/** An opened context with its page; `version` is the storage state file's it was made from. */
export interface Warm {
  context: BrowserContext;
  page: Page;
  version: string;
}

interface Entry {
  warm: Promise<Warm>;
  kept: boolean;
  /** Stops the move to about:blank of a context taken while it lingers on Grok's page. */
  taken?: () => void;
}

/** Past this, a kept context beyond the account's last ready one is closed (memory, not CPU: it idles on about:blank). */
export const IDLE_CONTEXT_MS = 60_000;

/** How long leaving Grok's page for about:blank may take before the context is closed instead. */
const BLANK_MS = 5000;

/** How long a kept context stays on Grok's page, for a generation that takes it again, before it leaves it. */
export const LINGER_MS = 3000;

export class WarmContexts {
  private readonly ready = new Map<string, Entry[]>();
  private closed = false;

  /**
   * @param make opens a new context for the account at the storage state version given
   * @param spares whether to make a spare ahead (BROWSER_PREWARM)
   */
  constructor(
    private readonly make: (account: string, version: string) => Promise<Warm>,
    private readonly spares: boolean,
  ) {}

  /** A ready context for the account (a kept one first, then the spare), else a new one. */
  async take(account: string, version: string, signal?: AbortSignal): Promise<Warm> {
    let keptTaken = false;
    for (;;) {
      const list = this.ready.get(account);
      const entry = list?.shift();
      if (!entry) break;
      if (list!.length === 0) this.ready.delete(account);
      entry.taken?.();
      keptTaken = entry.kept;
      if (!entry.kept && !signal?.aborted) this.spareIfNone(account, version);
      const warm = await entry.warm.catch(() => undefined);
      if (warm && usable(warm, version)) return warm;
      await warm?.context.close().catch(() => {});
    }
    if (!keptTaken && !signal?.aborted) this.spareIfNone(account, version);
    return this.make(account, version);
  }

  /**
   * Keeps a context that ended a generation well, once it has left Grok's page; false (the
   * caller closes it) when it may not serve the account's next generation at `version`.
   */
  keep(account: string, warm: Warm, version: string): boolean {
    if (this.closed || !usable(warm, version)) return false;
    const entry: Entry = { warm: Promise.resolve(warm), kept: true };
    const leave = setTimeout(() => {
      const left = warm.page.goto('about:blank', { timeout: BLANK_MS }).then(
        () => warm,
        async (err: unknown) => {
          await warm.context.close().catch(() => {});
          throw err;
        },
      );
      left.catch(() => {});
      entry.warm = left;
    }, LINGER_MS);
    leave.unref();
    entry.taken = () => clearTimeout(leave);
    this.ready.set(account, [entry, ...(this.ready.get(account) ?? [])]);
    const timer = setTimeout(() => {
      const list = this.ready.get(account);
      const at = list?.indexOf(entry) ?? -1;
      if (!list || at < 0 || list.length <= 1) return;
      list.splice(at, 1);
      entry.taken?.();
      void entry.warm.then((w) => w.context.close()).catch(() => {});
    }, IDLE_CONTEXT_MS);
    timer.unref();
    return true;
  }

  /** Ready contexts over every account (kept and spares, made or being made). */
  count(): number {
    let n = 0;
    for (const list of this.ready.values()) n += list.length;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.ready.values()].flat();
    this.ready.clear();
    for (const e of all) e.taken?.();
    await Promise.all(all.map((e) => e.warm.then((w) => w.context.close(), () => undefined).catch(() => {})));
    this.closed = false;
  }

  private spareIfNone(account: string, version: string): void {
    if (!this.spares || this.ready.has(account)) return;
    const warm = this.make(account, version);
    warm.catch(() => {});
    this.ready.set(account, [{ warm, kept: false }]);
  }
}

/** Made from the account's current storage state, in a browser still running, its page open. */
function usable(warm: Warm, version: string): boolean {
  return warm.version === version && !!warm.context.browser()?.isConnected() && !warm.page.isClosed();
}
