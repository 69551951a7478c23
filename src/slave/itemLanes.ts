import { workflowInfo } from '@temporalio/workflow';
import { laneHolder, type ItemSlot } from '../shared/jobs/reservation';
import type { ItemWait, ItemWaits, NoSlot } from './itemWaits';

// Workflow side of the capacity claim: a job's items run in lanes. Lane 0 runs on the job's
// slot, reserved by the master's claim (so its first item starts at once) and kept between
// items; lanes 1… (ITEM_CONCURRENCY) are extra parallel items that take a free slot when
// there is one and otherwise hand their item back to the queue: nothing waits for a slot.
// A cooldown or a gap on the job's account is one durable timer until the time the database
// named. With `asRow` (patched('capacity-waits')), when every account the job may use is busy
// (its slot lost, or released by a rate limit), lane 0 waits as the job's job_waits row for
// the master's claim to hand it a slot (a signal): no timer, no asking again. Past the history threshold the lanes stop taking items, so the workflow can
// continue as new with what is left.

interface ItemDone { index: number; status: string; account?: string }

export interface LaneRun {
  /** The job's items not started yet, in order. */
  queue: number[];
  /** The job's slot: its holder, and the account it is on now (moves when a pool job moves). */
  slot: { holder: string; account?: string };
  lanes: number;
  waits: ItemWaits;
  /** Lane 0 may wait as the job's row (workflows with patched('capacity-waits')). */
  asRow?: boolean;
  generate(index: number, slot: ItemSlot): Promise<ItemDone | ItemWait | NoSlot>;
  /** An item's end: a result, or an error (rethrown when it ends the job). */
  done(index: number, result: ItemDone | undefined, err?: unknown): Promise<void>;
  /** Past this many history events no lane takes another item. */
  historyEvents: number;
}

/** Runs the queue through the lanes; returns the items left when the history grew past its threshold. */
export async function runLanes(run: LaneRun): Promise<number[]> {
  const full = () => workflowInfo().historyLength >= run.historyEvents || workflowInfo().continueAsNewSuggested;

  async function lane(n: number): Promise<void> {
    const extra = n > 0;
    const holder = extra ? laneHolder(run.slot.holder, n) : run.slot.holder;
    while (run.queue.length > 0 && !full()) {
      const index = run.queue.shift()!;
      // The job's slot is kept after every item (and across a continue-as-new): the job's end
      // (endJob) gives it back, so a PROGRESS job always holds one and INQUEUE + PROGRESS never
      // outnumbers the slots. An extra item's slot is given back after the item.
      const slot: ItemSlot = extra
        ? { holder, keep: false, extra: true }
        : { holder, keep: true, ...(run.slot.account ? { account: run.slot.account } : {}), ...(run.asRow ? { asRow: true } : {}) };
      // A grant counts for this item's row wait only when it comes after the item asked.
      const asked = run.waits.mark();
      let answer: ItemDone | ItemWait | NoSlot;
      try {
        answer = await run.generate(index, slot);
      } catch (err) {
        await run.done(index, undefined, err);
        continue;
      }
      if ('kind' in answer && answer.kind === 'noSlot') {
        run.queue.unshift(index);
        return;
      }
      if ('kind' in answer && answer.kind === 'wait') {
        // The item goes first again once the account frees.
        run.queue.unshift(index);
        try {
          if (answer.asRow) {
            await run.waits.asRow(answer, asked);
            // The claim reserved the slot on this account: the item asks there first.
            if (run.waits.granted) run.slot.account = run.waits.granted;
          } else await run.waits.once(answer);
        } catch (err) {
          run.queue.shift();
          await run.done(index, undefined, err);
        }
        continue;
      }
      const result = answer as ItemDone;
      if (!extra && result.account) run.slot.account = result.account;
      await run.done(index, result);
    }
  }

  // An extra lane can hand an item back just after lane 0 found the queue empty: go again.
  do {
    await Promise.all(Array.from({ length: Math.max(1, run.lanes) }, (_, n) => lane(n)));
  } while (run.queue.length > 0 && !full());
  return run.queue;
}
