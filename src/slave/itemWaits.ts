import { ApplicationFailure, condition, defineQuery, defineSignal, setHandler, sleep, upsertMemo } from '@temporalio/workflow';
import { CAPACITY_SIGNAL, type CapacityGrant } from '../shared/jobs/reservation';
import { FailureType } from './failures';

// Workflow side of the account pool: an item that gets no account (every slot taken, every
// account cooling down) comes back from generateItem as a wait, not a failure. The workflow
// sleeps on a durable timer and asks again, as long as the job's deadline allows: no
// retry attempt is used, no browser is open, a restarted worker resumes the timer. While
// items wait, the memo `waiting` and the query `waiting` say for which account and until when.
// A wait with no known end (every account it may use busy) is no timer: the job waits as its
// job_waits row and the master's claim signals `capacity` once it reserved a slot for it.

/** What generateItem answers when the item cannot start yet (src/slave/item/accountGate.ts). */
export interface ItemWait {
  kind: 'wait';
  index: number;
  account: string;
  reason: 'cooling' | 'gap' | 'busy';
  waitMs: number;
  /** When the account frees up (ISO, the database's clock); absent: nobody knows (a row wait). */
  until?: string;
  message: string;
  /** The job waits as its job_waits row until the claim signals a slot (no timer of its own). */
  asRow?: true;
}

/** What generateItem answers an extra parallel item when no slot is free: back to the job's queue. */
export interface NoSlot {
  kind: 'noSlot';
  index: number;
}

export interface WaitingItem {
  index: number;
  account: string;
  reason: ItemWait['reason'];
  until?: string;
  message: string;
  /** Waits as the job's row for the master's claim to hand it a slot. */
  asRow?: true;
}

export const waitingQuery = defineQuery<WaitingItem[]>('waiting');

/** Sent by the master's claim: a slot (lease `job/<id>`) is reserved for the job waiting as a row. */
export const capacitySignal = defineSignal<[CapacityGrant]>(CAPACITY_SIGNAL);

export class ItemWaits {
  private readonly waits = new Map<number, WaitingItem>();
  /** Signals received so far: a row wait ends at the first one after its item asked. */
  private grants = 0;
  /** The account of the last slot the claim reserved (the job's slot moves there). */
  granted: string | undefined;

  /** @param deadlineAt epoch ms after which no item starts waiting */
  constructor(private readonly deadlineAt: number) {
    setHandler(waitingQuery, () => [...this.waits.values()]);
    // Registering a handler adds nothing to the history: older runs replay unchanged.
    setHandler(capacitySignal, (grant) => {
      this.grants += 1;
      this.granted = grant.account;
    });
  }

  /** Taken before an item asks for its slot: a grant counts for a row wait only if it came after. */
  mark(): number {
    return this.grants;
  }

  /**
   * The job waits as its row (no timer but its deadline's) until the master's claim signals a
   * slot reserved after `since` (mark()). Past the deadline the item fails.
   */
  async asRow(answer: ItemWait, since: number): Promise<void> {
    const leftMs = this.deadlineAt - Date.now();
    const deadlinePassed = () => ApplicationFailure.nonRetryable(
      `the job's deadline ${new Date(this.deadlineAt).toISOString()} passed while it waited for a slot (${answer.message})`,
      FailureType.DeadlinePassed,
    );
    if (leftMs <= 0) throw deadlinePassed();
    this.set(answer.index, { index: answer.index, account: answer.account, reason: answer.reason, message: answer.message, asRow: true });
    try {
      const granted = Number.isFinite(leftMs)
        ? await condition(() => this.grants > since, leftMs)
        : (await condition(() => this.grants > since), true);
      if (!granted) throw deadlinePassed();
    } finally {
      this.set(answer.index, undefined);
    }
  }

  /**
   * One wait, for a time the database named (a cooldown or a gap ends; the capacity
   * claim's workflows): a durable timer, no asking again in between. Past the job's
   * deadline: the item fails instead.
   */
  async once(answer: ItemWait): Promise<void> {
    if (Date.now() + answer.waitMs > this.deadlineAt) {
      throw ApplicationFailure.nonRetryable(
        `the job's deadline ${new Date(this.deadlineAt).toISOString()} passes before an account frees up (${answer.message})`,
        FailureType.DeadlinePassed,
      );
    }
    this.set(answer.index, { index: answer.index, account: answer.account, reason: answer.reason, until: answer.until, message: answer.message });
    try {
      await sleep(answer.waitMs, { summary: `item ${answer.index}: ${answer.message}` });
    } finally {
      this.set(answer.index, undefined);
    }
  }

  /** Calls `generate` until it answers something other than a wait (workflows started before the capacity claim). */
  async untilDone<T>(index: number, generate: () => Promise<T | ItemWait>): Promise<T> {
    let busy = 0;
    try {
      for (;;) {
        const answer = await generate();
        if (!isWait(answer)) return answer;
        // Polling for a free slot stretches out (×2 after 10 tries, ×3 after 20… at most a
        // minute), so a job that waits hours for busy accounts keeps a short history.
        busy = answer.reason === 'busy' ? busy + 1 : 0;
        const waitMs = answer.reason === 'busy' ? Math.min(60_000, answer.waitMs * (1 + Math.floor(busy / 10))) : answer.waitMs;
        // Workflow time: deterministic on replay.
        if (Date.now() + waitMs > this.deadlineAt) {
          throw ApplicationFailure.nonRetryable(
            `the job's deadline ${new Date(this.deadlineAt).toISOString()} passes before an account frees up (${answer.message})`,
            FailureType.DeadlinePassed,
          );
        }
        this.set(index, { index, account: answer.account, reason: answer.reason, until: answer.until, message: answer.message });
        await sleep(waitMs, { summary: `item ${index}: ${answer.message}` });
      }
    } finally {
      if (this.waits.has(index)) this.set(index, undefined);
    }
  }

  private set(index: number, wait: WaitingItem | undefined): void {
    const before = this.memoText();
    if (wait) this.waits.set(index, wait);
    else this.waits.delete(index);
    const after = this.memoText();
    // Short waits (a gap of a few seconds) repeat: write the memo only when its text changes.
    if (after !== before) upsertMemo({ waiting: after });
  }

  private memoText(): string | undefined {
    if (this.waits.size === 0) return undefined;
    return [...this.waits.values()].map((w) => `item ${w.index}: ${w.message}`).join('; ');
  }
}

function isWait(x: unknown): x is ItemWait {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'wait';
}
