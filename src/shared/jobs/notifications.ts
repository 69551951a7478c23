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

/**
 * Capacity may have come back (migration 0007's grokflow_notify_capacity(): a pause deleted,
 * a lease released): the master's listener wakes every type's scheduler to claim again.
 */
export const CAPACITY_CHANNEL = 'grokflow_capacity';
export const LISTEN_CAPACITY = `LISTEN ${CAPACITY_CHANNEL}`;

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
