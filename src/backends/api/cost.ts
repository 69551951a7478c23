// Money in xAI's unit: integer ticks, 1 USD = 10^10 ticks. Kept as integers everywhere
// (rows: bigint), so a job's total is the exact sum of its items'; dollars only on display.

export const TICKS_PER_USD = 10_000_000_000;
/** The largest amount a JS number holds exactly: about $900,000. */
const MAX_TICKS = Number.MAX_SAFE_INTEGER;

/** A price setting (0.05) in ticks; rounding absorbs the binary fraction (0.05 × 10^10 = 500000000.00000006). */
export function usdToTicks(usd: number): number {
  const ticks = Math.round(usd * TICKS_PER_USD);
  if (!Number.isSafeInteger(ticks) || ticks < 0) throw new RangeError(`$${usd} is not an amount grokflow can count exactly`);
  return ticks;
}

/** Exact dollars for people: 3000000000 → "$0.30", 123 → "$0.0000000123". */
export function formatUsd(ticks: number): string {
  if (!Number.isSafeInteger(ticks) || Math.abs(ticks) > MAX_TICKS) throw new RangeError(`${ticks} is not a whole number of ticks`);
  const sign = ticks < 0 ? '-' : '';
  const t = BigInt(Math.abs(ticks));
  const whole = t / BigInt(TICKS_PER_USD);
  const frac = (t % BigInt(TICKS_PER_USD)).toString().padStart(10, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${sign}$${whole}.${frac}`;
}
