// The names of a job's slots (lease holders in account_leases), plain strings that workflow
// code and the database share: the claim reserves `job/<id>` (the job's own slot, kept
// between its items); extra parallel items of the job take `job/<id>/<lane>`.

export function reservationHolder(jobId: number): string {
  return `job/${jobId}`;
}

export function laneHolder(reservation: string, lane: number): string {
  return `${reservation}/${lane}`;
}

/** What a job's item is told about its slot (ids only). */
export interface ItemSlot {
  holder: string;
  /** The account the job holds now (its reservation), tried first. */
  account?: string;
  /** Keep the slot (the lease) after this item: the job's own slot, given back when the job ends. */
  keep: boolean;
  /** An extra parallel item: takes a free slot if there is one, never waits for one. */
  extra?: boolean;
  /**
   * No slot and nothing that ends by itself (every account it may use busy): the job waits
   * as its job_waits row and the claim hands it a slot (workflows with patched('capacity-waits')).
   */
  asRow?: boolean;
}

/**
 * The signal the master's claim sends a job's workflow when it reserved a slot for the job
 * waiting as a row (src/master/activities/waiters.ts → src/slave/itemWaits.ts). Ids only.
 */
export const CAPACITY_SIGNAL = 'capacity';

export interface CapacityGrant {
  /** The account the slot (lease `job/<id>`) was reserved on. */
  account: string;
}
