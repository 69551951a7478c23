import { formatUsd, TICKS_PER_USD } from '../backends/api/cost';
import { duration } from '../cli/format';
import type { Db } from '../shared/db/client';
import { JOB_STATUSES } from '../shared/db/schema';
import { dashboard, DEFAULT_WINDOW_DAYS, type Dashboard } from './dashboardQueries';
import { filterForm, viewFilter } from './galleryFilter';
import { html, type Html } from './html';

// The dashboard: the numbers of dashboardQueries.ts as Chart.js charts. The server shapes
// each chart (labels, series, colours) into the canvas's data-chart attribute; the browser
// script (public/dashboard.js) only hands it to Chart.js, served from node_modules.

/** What public/dashboard.js reads from a canvas's data-chart attribute. */
export interface ChartSpec {
  type: 'bar' | 'line';
  stacked?: boolean;
  /** How the y values read: a count, a percentage, dollars or seconds. */
  unit: 'count' | 'percent' | 'usd' | 'seconds';
  labels: string[];
  datasets: Array<{ label: string; data: number[]; color: string }>;
}

// The badges' colours (public/style.css), so a status looks the same on every page.
const STATUS_COLOR: Record<string, string> = { PENDING: '#9aa3ad', INQUEUE: '#4d7fe0', PROGRESS: '#e0a800', COMPLETED: '#2e9e5b', ERROR: '#d14343' };
const PALETTE = ['#2f6fde', '#e07b00', '#2e9e5b', '#9b51e0', '#d14343', '#00a3a3', '#7a5a00', '#c2185b'];
const HOUR_MS = 3_600_000;
/** More hours than this and the first chart counts per day: a bar a few pixels wide says nothing. */
const MAX_HOUR_BARS = 24 * 14;

/** Every bucket from the first to the last one with data, so gaps show as gaps. */
function jobsPerHour(d: Dashboard): ChartSpec {
  const hours = d.jobsPerHour.map((r) => Date.parse(r.hour));
  if (!hours.length) return { type: 'bar', stacked: true, unit: 'count', labels: [], datasets: [] };
  const first = Math.min(...hours);
  const last = Math.max(...hours);
  const daily = (last - first) / HOUR_MS > MAX_HOUR_BARS;
  const key = (ms: number) => new Date(ms).toISOString().slice(0, daily ? 10 : 13);
  const labels: string[] = [];
  // A daily count starts at midnight, so the last day is never stepped over.
  for (let t = daily ? first - (first % (24 * HOUR_MS)) : first; t <= last; t += daily ? 24 * HOUR_MS : HOUR_MS) if (!labels.includes(key(t))) labels.push(key(t));
  const datasets = JOB_STATUSES.filter((s) => d.jobsPerHour.some((r) => r.status === s)).map((status) => {
    const data = labels.map(() => 0);
    for (const r of d.jobsPerHour) if (r.status === status) data[labels.indexOf(key(Date.parse(r.hour)))]! += r.n;
    return { label: status, data, color: STATUS_COLOR[status]! };
  });
  return { type: 'bar', stacked: true, unit: 'count', labels: labels.map((l) => (daily ? l : `${l.slice(5, 10)} ${l.slice(11)}h`)), datasets };
}

function moderation(d: Dashboard): ChartSpec {
  return {
    type: 'bar',
    unit: 'percent',
    labels: d.moderation.map((r) => r.account),
    datasets: [{ label: 'moderated generations (%)', data: d.moderation.map((r) => (r.generations ? Math.round((1000 * r.moderated) / r.generations) / 10 : 0)), color: '#9b51e0' }],
  };
}

function spendPerDay(d: Dashboard): ChartSpec {
  const days = [...new Set(d.spendPerDay.map((r) => r.day))];
  const accounts = [...new Set(d.spendPerDay.map((r) => r.account))];
  return {
    type: 'bar',
    stacked: true,
    unit: 'usd',
    labels: days,
    datasets: accounts.map((account, i) => ({
      label: account,
      data: days.map((day) => (d.spendPerDay.find((r) => r.day === day && r.account === account)?.ticks ?? 0) / TICKS_PER_USD),
      color: PALETTE[i % PALETTE.length]!,
    })),
  };
}

function durationPerDay(d: Dashboard): ChartSpec {
  const s = (ms: number) => Math.round(ms / 100) / 10;
  return {
    type: 'line',
    unit: 'seconds',
    labels: d.durationPerDay.map((r) => r.day),
    datasets: [
      { label: 'p50', data: d.durationPerDay.map((r) => s(r.p50)), color: '#2f6fde' },
      { label: 'p95', data: d.durationPerDay.map((r) => s(r.p95)), color: '#d14343' },
    ],
  };
}

function chart(id: string, title: string, note: string, spec: ChartSpec): Html {
  return html`<section class="chart" id="${id}">
  <h2>${title}</h2>
  <p class="note">${note}</p>
  ${spec.datasets.length && spec.labels.length
    ? html`<div class="canvas-box"><canvas data-chart="${JSON.stringify(spec)}" role="img" aria-label="${title}"></canvas></div>`
    : html`<p class="empty">No data in this window.</p>`}
</section>`;
}

export async function dashboardPage(db: Db, query: unknown): Promise<Html> {
  const f = viewFilter(query);
  const d = await dashboard(db, f);
  const t = d.totals;
  const rate = t.generations ? `${((100 * t.moderated) / t.generations).toFixed(1)} %` : '–';
  return html`
<h1>Dashboard</h1>
${filterForm('/dashboard', f)}
<p class="note">${f.since ? '' : `The last ${DEFAULT_WINDOW_DAYS} days, `}${d.from.slice(0, 16).replace('T', ' ')} to ${d.to.slice(0, 16).replace('T', ' ')} UTC.</p>
<dl class="totals">
  <dt>jobs</dt><dd data-total="jobs">${t.jobs}</dd>
  <dt>p50 / p95 duration</dt><dd data-total="duration">${t.p50Ms === null ? '–' : `${duration(Math.round(t.p50Ms))} / ${duration(Math.round(t.p95Ms!))}`}</dd>
  <dt>moderated</dt><dd data-total="moderation">${rate} of ${t.generations} generations</dd>
  <dt>spent</dt><dd data-total="spent">${formatUsd(t.spentTicks)}</dd>
</dl>
<div class="charts">
${chart('jobs-per-hour', 'Jobs per hour by status', 'Each job in the hour it ended, or was added if it has not ended.', jobsPerHour(d))}
${chart('moderation', 'Moderation rate by account', 'Moderated generations (each regeneration, and the last one of an item that gave up) out of all generations of ended items.', moderation(d))}
${chart('spend', 'Spend per day by account', 'What xAI charged (api jobs), by the day the job ended, per account the item ran on.', spendPerDay(d))}
${chart('duration', 'Job duration, p50 and p95', 'Jobs that ended, per day, from start to end (seconds).', durationPerDay(d))}
</div>
<script src="/static/vendor/chart.umd.min.js" defer></script>
<script src="/static/dashboard.js" defer></script>`;
}
