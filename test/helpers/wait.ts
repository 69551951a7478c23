// Waiting for something to become true, written once for every test and helper: a test polls
// the database, a log or a page with these instead of a loop of its own.

type Maybe<T> = T | undefined | null | false;

/**
 * Calls `fn` every `everyMs` until it returns a truthy value and returns that value, or
 * returns undefined once `timeoutMs` has passed (the caller decides what a timeout means).
 * `fn` runs at least once, and once more after the deadline, so a slow call is not lost.
 */
export async function pollUntil<T>(fn: () => Promise<Maybe<T>>, timeoutMs: number, everyMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Like pollUntil, but a timeout fails: "timed out waiting for <what>". `what` may be a
 * function, to name the state at that moment (a job's status, a process's output so far).
 */
export async function waitFor<T>(what: string | (() => string), fn: () => Promise<Maybe<T>>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const value = await pollUntil(fn, timeoutMs, everyMs);
  if (value) return value;
  throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
}
