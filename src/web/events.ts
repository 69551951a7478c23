import type { FastifyInstance } from 'fastify';
import { Client as PgClient } from 'pg';
import { jobNotificationOf, LISTEN_JOB_EVENTS, type JobNotification } from '../shared/jobs/notifications';
import type { Logger } from '../shared/logger';

/** The LISTEN connection's application_name, to find it in pg_stat_activity. */
export const WEB_LISTENER_NAME = 'grokflow-web-listen';

type Subscriber = { job?: number; send(note: JobNotification): void; end(): void };

/**
 * One LISTEN connection for the whole console, fanned out to every open page as
 * server-sent events. When Postgres drops it, every stream is closed (the browsers'
 * EventSource reconnects and the page reloads what it shows) and it reconnects with backoff.
 */
export class JobEventHub {
  private readonly subscribers = new Set<Subscriber>();
  private client?: PgClient;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private markListening!: () => void;
  /** Resolves while the LISTEN is in place; replaced by a pending one when it drops. */
  listening: Promise<void> = this.pending();

  constructor(private readonly databaseUrl: string, private readonly log: Logger) {}

  private pending(): Promise<void> {
    return new Promise<void>((resolve) => { this.markListening = resolve; });
  }

  /** Resolves once the first LISTEN is in place. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(attempt = 0): Promise<void> {
    if (this.closed) return;
    const c = new PgClient({ connectionString: this.databaseUrl, keepAlive: true, application_name: WEB_LISTENER_NAME });
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost || this.closed) return;
      lost = true;
      this.client = undefined;
      this.listening = this.pending();
      c.end().catch(() => undefined);
      this.log.warn({ err: err?.message }, 'LISTEN connection lost; reconnecting');
      for (const s of this.subscribers) s.end();
      this.retry(0);
    };
    c.on('error', onLost);
    c.on('end', () => onLost());
    c.on('notification', (msg) => {
      const note = jobNotificationOf(msg);
      if (!note) return;
      for (const s of this.subscribers) if (s.job === undefined || s.job === note.id) s.send(note);
    });
    try {
      await c.connect();
      await c.query(LISTEN_JOB_EVENTS);
      this.client = c;
      this.markListening();
      if (attempt > 0) this.log.info('LISTEN connection back');
    } catch (err) {
      lost = true;
      c.end().catch(() => undefined);
      if (attempt === 0 && !this.timer) throw err;
      this.log.warn({ err: (err as Error).message, attempt }, 'LISTEN connect failed; retrying');
      this.retry(attempt + 1);
    }
  }

  private retry(attempt: number): void {
    if (this.closed) return;
    const delay = Math.min(10_000, 200 * 2 ** attempt);
    this.timer = setTimeout(() => { void this.connect(Math.max(1, attempt)); }, delay);
  }

  subscribe(s: Subscriber): () => void {
    this.subscribers.add(s);
    return () => { this.subscribers.delete(s); };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.markListening();
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
    const c = this.client;
    this.client = undefined;
    if (c) {
      c.removeAllListeners('end');
      c.removeAllListeners('error');
      c.on('error', () => undefined);
      await c.end().catch(() => undefined);
    }
  }
}

/** GET /events[?job=ID]: the NOTIFYs of every job (or one) as server-sent events. */
export function registerEvents(app: FastifyInstance, hub: JobEventHub): void {
  app.get('/events', async (req, reply) => {
    const jobText = (req.query as { job?: string }).job;
    const job = jobText !== undefined && /^\d+$/.test(jobText) ? Number(jobText) : undefined;
    // A page that reconnects while Postgres is away waits here, so it misses nothing after its reload.
    await hub.listening;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': listening\n\n');
    // A comment now and then keeps proxies from closing an idle stream; it is not a poll.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    let unsubscribe: () => void = () => undefined;
    const end = () => {
      clearInterval(keepAlive);
      unsubscribe();
      res.end();
    };
    unsubscribe = hub.subscribe({ job, send: (note) => res.write(`data: ${JSON.stringify(note)}\n\n`), end });
    req.raw.on('close', end);
  });
}
