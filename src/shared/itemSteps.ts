// The steps of one generation, each timed by the backend and kept on the item's row
// (job_items.steps), so that where an item's time went can be read afterwards: the page's
// own work (ready, options, prompt, submit), Grok's (generation), and the files' (download,
// upscale, delete). The one list of step names: the driver, the row, `jobs show`, the
// console's job page, the metrics and the variants bench all read it from here.

export const ITEM_STEPS = ['page', 'options', 'prompt', 'submit', 'generation', 'download', 'upscale', 'delete'] as const;
export type ItemStep = (typeof ITEM_STEPS)[number];

/** Milliseconds spent per step; a step the item did not go through is absent. */
export type ItemSteps = Partial<Record<ItemStep, number>>;

/** What each step measures, for people (the console's bar titles, the README). */
export const STEP_MEANING: Record<ItemStep, string> = {
  page: 'page ready (the post opened, uploaded or made from text)',
  options: 'video options chosen',
  prompt: 'prompt entered',
  submit: 'submitted → first progress from Grok',
  generation: "generation: Grok's own time, first progress → video ready",
  download: 'download of the file(s)',
  upscale: 'upscale (HD) and its download',
  delete: 'delete on Grok',
};

/** The steps the driver itself spends (everything but Grok's generation): the overhead. */
export function overheadMs(steps: ItemSteps): number {
  return ITEM_STEPS.filter((s) => s !== 'generation').reduce((sum, s) => sum + (steps[s] ?? 0), 0);
}

/**
 * Times the steps of one run: `step(name)` closes the step running and opens `name`;
 * `add` folds a measured span into a step (extensions generate and download again).
 */
export class StepClock {
  readonly steps: ItemSteps = {};
  private current?: { name: ItemStep; at: number };

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Ends the running step and starts `name` (undefined: only ends it). */
  step(name?: ItemStep): void {
    const t = this.now();
    if (this.current) this.add(this.current.name, t - this.current.at);
    this.current = name ? { name, at: t } : undefined;
  }

  add(name: ItemStep, ms: number): void {
    this.steps[name] = Math.round((this.steps[name] ?? 0) + ms);
  }

  /** The steps so far, the running one included up to now. */
  snapshot(): ItemSteps {
    const out = { ...this.steps };
    if (this.current) out[this.current.name] = Math.round((out[this.current.name] ?? 0) + this.now() - this.current.at);
    return out;
  }
}

/** A row's `steps` value, checked: unknown names and non-numbers are dropped. */
export function readSteps(value: unknown): ItemSteps {
  const out: ItemSteps = {};
  if (!value || typeof value !== 'object') return out;
  for (const s of ITEM_STEPS) {
    const v = (value as Record<string, unknown>)[s];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[s] = v;
  }
  return out;
}
