import { Client as PgClient } from 'pg';
import type { Logger } from '../shared/logger';
import { CAPACITY_CHANNEL, JOB_EVENTS_CHANNEL, jobNotificationOf, LISTEN_CAPACITY, LISTEN_JOB_EVENTS } from '../shared/jobs/notifications';
import { isJobType, type JobTypeName } from '../shared/registry';

export interface ListenerOptions {
  databaseUrl: string;
  debounceMs: number;
  logger: Logger;
  /**
   * Wakes a type's scheduler (or claims directly): never two at once for a type; what comes
   * in meanwhile is one more call after it, `debounceMs` after the first notification.
   */
  wake(type: JobTypeName): Promise<void>;
  /** Job types this master serves (others are ignored). */
  types: readonly JobTypeName[];
  /** Reconnect backoff bounds. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface JobListener {
  /** Resolves once the first LISTEN is in place. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * LISTEN job_events and grokflow_capacity on a dedicated connection (a pool would hand it
 * back and lose the LISTEN). A PENDING notification wakes that type's scheduler, a capacity
 * notification every type's, coalesced: one wake per type runs at a time, and any number of
 * notifications during it make one more (a burst of inserts costs a wake or two, not one
 * each); `debounceMs` (NOTIFY_DEBOUNCE_MS, default 0) can gather more before each. When
 * Postgres drops the connection it reconnects with backoff. Every connect, the first included, wakes every type once, for whatever was
 * inserted while nobody listened.
 */
export function startListener(options: ListenerOptions): JobListener {
  const log = options.logger.child({ component: 'listener' });
  const minBackoff = options.minBackoffMs ?? 200;
  const maxBackoff = options.maxBackoffMs ?? 10_000;
  const timers = new Map<JobTypeName, NodeJS.Timeout>();
  // Types whose wake runs now; `again`: notified meanwhile, one more wake after it.
  const running = new Set<JobTypeName>();
  const again = new Set<JobTypeName>();
  let closed = false;
  let client: PgClient | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => { markReady = resolve; });

  const fire = (type: JobTypeName) => {
    timers.delete(type);
    running.add(type);
    options.wake(type)
      .catch((err: unknown) => log.warn({ jobType: type, err }, 'waking the scheduler failed; the cron tick stays the safety net'))
      .finally(() => {
        running.delete(type);
        if (again.delete(type)) schedule(type);
      });
  };
  const schedule = (type: JobTypeName) => {
    if (closed) return;
    if (running.has(type)) {
      again.add(type);
      return;
    }
    if (timers.has(type)) return;
    // Even with no debounce, a timer: the notifications of one socket read come as one.
    timers.set(type, setTimeout(() => fire(type), options.debounceMs));
  };

  const connect = async (attempt: number): Promise<void> => {
    if (closed) return;
    const c = new PgClient({ connectionString: options.databaseUrl, keepAlive: true });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      c.removeAllListeners('notification');
      c.end().catch(() => undefined);
      if (closed) return;
      log.warn({ err: err?.message }, 'LISTEN connection lost; reconnecting');
      retry(0);
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', (msg) => {
      // Capacity may have come back (a lease deleted, an account added or improved, a
      // resume): every type claims again; the claim decides what can start.
      if (msg.channel === CAPACITY_CHANNEL) {
        for (const type of options.types) schedule(type);
        return;
      }
      const note = jobNotificationOf(msg);
      if (!note) return;
      if (note.status === 'PENDING' && note.from !== 'PENDING' && note.type && isJobType(note.type) && options.types.includes(note.type)) schedule(note.type);
    });
    try {
      await c.connect();
      await c.query(LISTEN_JOB_EVENTS);
      await c.query(LISTEN_CAPACITY);
    } catch (err) {
      lost = true;
      c.removeAllListeners();
      c.on('error', () => undefined);
      c.end().catch(() => undefined);
      log.warn({ err: (err as Error).message, attempt }, 'LISTEN connect failed; retrying');
      retry(attempt + 1);
      return;
    }
    if (closed) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    log.info({ channels: [JOB_EVENTS_CHANNEL, CAPACITY_CHANNEL] }, 'listening');
    markReady();
    // Anything inserted while we were not listening (before start-up, or while the connection
    // was down): one wake per type, so such jobs wait for no cron tick.
    for (const type of options.types) schedule(type);
  };

  const retry = (attempt: number) => {
    const delay = Math.min(maxBackoff, minBackoff * 2 ** attempt) * (0.5 + Math.random() / 2);
    retryTimer = setTimeout(() => { void connect(attempt); }, delay);
  };

  void connect(0);

  return {
    ready,
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      markReady();
      const c = client;
      client = undefined;
      if (c) {
        c.removeAllListeners('end');
        c.removeAllListeners('error');
        c.on('error', () => undefined);
        await c.end().catch(() => undefined);
      }
    },
  };
}
