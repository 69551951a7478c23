import { Context } from '@temporalio/activity';
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../shared/db/client';
import { jobs } from '../shared/db/schema';

export interface ItemProgress {
  item: number;
  percent: number;
  message: string;
}

export interface ProgressHandle {
  update(percent: number, message: string): void;
  /** Stops the ticks; with `final`, writes it at once. Resolves when the last write is done. */
  stop(final?: { percent: number; message: string }): Promise<void>;
}

/**
 * Heartbeats on a steady tick, not only when progress moves: cancellation and termination
 * reach an activity only through a heartbeat, and a generation can sit at one percentage
 * for a long time. Progress also goes to jobs.progress, throttled.
 */
export function startProgress(db: Db, opts: { jobId: number; item: number; items: number; doneBefore: number; throttleMs: number; tickMs?: number }): ProgressHandle {
  const ctx = Context.current();
  let details: ItemProgress = { item: opts.item, percent: 0, message: 'starting' };
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();

  const beat = () => ctx.heartbeat(details);
  beat();
  const timer = setInterval(beat, opts.tickMs ?? 1000);

  function write(force: boolean) {
    const now = Date.now();
    if (!force && now - lastWrite < opts.throttleMs) return;
    lastWrite = now;
    const overall = Math.floor((opts.doneBefore * 100 + details.percent) / Math.max(1, opts.items));
    const message = `item ${opts.item + 1}/${opts.items}: ${details.message}`;
    // Never moves progress backwards: items of one job may report out of order.
    writing = writing.then(() =>
      db.update(jobs).set({ progress: sql`greatest(${jobs.progress}, ${overall})`, progressMessage: message }).where(eq(jobs.id, opts.jobId)),
    ).catch(() => undefined);
  }

  return {
    update(percent: number, message: string) {
      details = { item: opts.item, percent: Math.max(0, Math.min(100, Math.round(percent))), message };
      beat();
      write(false);
    },
    async stop(final?: { percent: number; message: string }) {
      clearInterval(timer);
      if (final) {
        details = { item: opts.item, ...final };
        write(true);
      }
      await writing;
    },
  };
}
