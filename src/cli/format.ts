import Table from 'cli-table3';

export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) t.push(row.map((v) => (v === null || v === undefined ? '' : String(v))));
  return t.toString();
}

export function ago(date: Date | null | undefined, now = Date.now()): string {
  if (!date) return '';
  const s = Math.round((now - date.getTime()) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function truncate(text: string | null | undefined, max = 60): string {
  if (!text) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
