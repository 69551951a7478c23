import type { JobStatus } from '../db/schema';

/**
 * The channel and payload of the `jobs_notify` trigger (migrations/0001_notify_triggers.sql):
 * one NOTIFY on every INSERT, status change and progress update of a job. The master's
 * listener, `jobs watch` and the web console all read it through these two.
 */
export const JOB_EVENTS_CHANNEL = 'job_events';

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

/** The notification in a NOTIFY payload, or undefined when it is not one (another writer). */
export function parseJobNotification(payload: string | undefined): JobNotification | undefined {
  if (!payload) return undefined;
  try {
    const note = JSON.parse(payload) as JobNotification;
    return typeof note?.id === 'number' && typeof note.status === 'string' ? note : undefined;
  } catch {
    return undefined;
  }
}
