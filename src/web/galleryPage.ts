import { sql } from 'drizzle-orm';
import { formatUsd } from '../backends/api/cost';
import { duration, truncate } from '../cli/format';
import type { Db } from '../shared/db/client';
import { DOWNLOADS_PREFIX, fileUrl } from './files';
import { filterForm, filterQuery, filterWhere, viewFilter, type JobFilter } from './galleryFilter';
import { html, type Html } from './html';

// Finished files across jobs: one tile per item that has a file, newest first. A page is
// a bounded number of tiles; "older" continues below the last item shown (keyset, so a
// page costs the same however many files there are).

export const GALLERY_PAGE_SIZE = 60;

export type GalleryQuery = Record<string, unknown> & {
  /** Show items older than this item id (the "older" link). */
  before?: string;
};

interface Tile {
  itemId: number;
  jobId: number;
  index: number;
  type: string;
  prompt: string | null;
  filePath: string;
  account: string | null;
  length: string | null;
  costTicks: number | null;
  durationMs: number | null;
}

const IMAGE = /\.(jpe?g|png|webp|gif)$/i;

async function tiles(db: Db, f: JobFilter, q: GalleryQuery): Promise<Tile[]> {
  const before = typeof q.before === 'string' && /^\d+$/.test(q.before) ? sql`AND i.id < ${Number(q.before)}` : sql``;
  const { rows } = await db.execute<Record<string, unknown>>(sql`
    SELECT i.id AS item_id, jobs.id AS job_id, i.index, jobs.type, i.prompt, i.file_path,
           coalesce(i.account, jobs.account) AS account, i.duration AS length,
           i.cost_ticks, jobs.duration_ms
      FROM job_items i JOIN jobs ON jobs.id = i.job_id
     WHERE i.status = 'COMPLETED' AND i.file_path IS NOT NULL AND ${filterWhere(f, { items: true })} ${before}
     ORDER BY i.id DESC
     LIMIT ${GALLERY_PAGE_SIZE}`);
  return rows.map((r) => ({
    itemId: Number(r.item_id),
    jobId: Number(r.job_id),
    index: Number(r.index),
    type: String(r.type),
    prompt: r.prompt as string | null,
    filePath: String(r.file_path),
    account: r.account as string | null,
    length: r.length as string | null,
    costTicks: r.cost_ticks === null ? null : Number(r.cost_ticks),
    durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
  }));
}

function tile(t: Tile, downloads: string): Html {
  const url = fileUrl(downloads, DOWNLOADS_PREFIX, t.filePath);
  const image = IMAGE.test(t.filePath);
  // A video shows its first frame as the poster (the #t fragment asks for it) and plays
  // muted on hover or click (public/app.js); only its metadata is fetched until then.
  const media = !url
    ? html`<div class="media missing">file outside DOWNLOADS_DIR</div>`
    : image
      ? html`<img class="media" src="${url}" alt="" loading="lazy">`
      : html`<video class="media" src="${url}#t=0.1" muted loop playsinline preload="metadata"></video>`;
  return html`<figure class="tile" data-item="${t.itemId}" data-kind="${image ? 'image' : 'video'}">
  <a href="/jobs/${t.jobId}" class="poster" aria-label="job ${t.jobId} item ${t.index}">${media}</a>
  <figcaption>
    <p class="prompt" title="${t.prompt ?? ''}">${truncate(t.prompt, 110)}</p>
    <p class="meta"><a href="/jobs/${t.jobId}">#${t.jobId}</a>${t.index ? `·${t.index}` : ''}
      <span class="account">${t.account ?? ''}</span>
      ${t.length ? html`<span class="length" title="length">${t.length}</span>` : ''}
      ${t.durationMs === null ? '' : html`<span class="took" title="the job took">${duration(t.durationMs)}</span>`}
      ${t.costTicks === null ? '' : html`<span class="cost">${formatUsd(t.costTicks)}</span>`}</p>
  </figcaption>
</figure>`;
}

export async function galleryPage(db: Db, downloads: string, q: GalleryQuery): Promise<Html> {
  const f = viewFilter(q);
  const shown = await tiles(db, f, q);
  const query = filterQuery(f);
  const last = shown[shown.length - 1];
  const older = shown.length === GALLERY_PAGE_SIZE && last ? `/gallery?${query ? `${query}&` : ''}before=${last.itemId}` : undefined;
  return html`
<h1>Gallery</h1>
${filterForm('/gallery', f)}
<div class="gallery" data-tiles="${shown.length}">${shown.map((t) => tile(t, downloads))}</div>
${shown.length ? '' : html`<p class="empty">No finished files${query ? ' match this filter' : ' yet'}.</p>`}
${older ? html`<p class="more"><a href="${older}" rel="next">older</a></p>` : ''}`;
}
