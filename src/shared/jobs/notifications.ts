import type { JobStatus } from './statuses';

/**
 * The channel and payload of the `jobs_notify` trigger (migrations/0001_notify_triggers.sql):
 * one NOTIFY on every INSERT, status change and progress update of a job. The master's
 * listener, `jobs watch` and the web console all subscribe with LISTEN_JOB_EVENTS and read
 * each notification with jobNotificationOf.
 */
export const JOB_EVENTS_CHANNEL = 'job_events';

/** The statement that subscribes a (dedicated) connection to the channel. */
export const LISTEN_JOB_EVENTS = `LISTEN ${JOB_EVENTS_CHANNEL}`;

export interface JobNotification {
  id: number;
  type: string;
  status: JobStatus;
  /** null on INSERT; equal to `status` for a progress update. */
  from: JobStatus | null;
  progress: number;
  /** The progress message, cut to 200 characters. */
  message: string | null;
}

/**
 * The job notification a pg `notification` event carries, or undefined when it is not one
 * (another channel on the same connection, another writer on this one).
 */
export function jobNotificationOf(msg: { channel: string; payload?: string }): JobNotification | undefined {
  if (msg.channel !== JOB_EVENTS_CHANNEL) return undefined;
  const payload = msg.payload;
  if (!payload) return undefined;
  try {
    const note = JSON.parse(payload) as JobNotification;
    return typeof note?.id === 'number' && typeof note.status === 'string' ? note : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Capacity may have come back (migrations 0007 and 0009: a lease deleted, an account added
 * or improved, a pause lifted): the master's listener claims again for every type it serves.
 * The payload says which table; the listener needs no more.
 */
export const CAPACITY_CHANNEL = 'grokflow_capacity';

export const LISTEN_CAPACITY = `LISTEN ${CAPACITY_CHANNEL}`;

/** The statement that says "capacity may have come back" from code (what no trigger sees: a new saved session). */
export const NOTIFY_CAPACITY = `SELECT pg_notify('${CAPACITY_CHANNEL}', '{"table":"code"}')`;
