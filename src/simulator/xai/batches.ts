import crypto from 'node:crypto';
import { parseXaiScenario } from './scenarios';
import type { Answer, XaiStandIn } from './standIn';

// The stand-in of xAI's Batch API (docs.x.ai/developers/advanced-api-usage/batch-api): a batch
// is created empty, requests are added to it (each with the caller's `batch_request_id`, unique
// in the batch), it is looked at for its counts, and its finished requests' results are read
// page by page. Image and video generations are accepted (docs.x.ai/developers/release-notes,
// March 2026), billed at a share of the direct price, not counted against the rate limit, and
// their file URLs expire like any other (the stand-in's urlTtlMs; xAI: 1 hour).

interface Entry {
  id: string;
  kind: 'video' | 'image';
  /** A video request's id in the stand-in. */
  videoId?: string;
  /** An image request: its answer, ready at `readyAt`. */
  image?: { body: unknown; readyAt: number };
  /** Refused when added: the request's error result. */
  error?: { code: string; message: string };
}

export interface XaiBatch {
  id: string;
  name: string;
  createdAt: number;
  entries: Entry[];
}

const invalid = (message: string): Answer => ({ status: 400, body: { code: 'invalid_argument', error: message } });
const PAGE = 100;

export class XaiBatches {
  readonly all = new Map<string, XaiBatch>();

  constructor(private readonly xai: XaiStandIn) {}

  /** POST /v1/batches. */
  create(body: Record<string, unknown>): Answer {
    if (typeof body.name !== 'string' || !body.name) return invalid('name: required, the batch\'s name');
    const batch: XaiBatch = { id: `batch_${crypto.randomUUID()}`, name: body.name, createdAt: Date.now(), entries: [] };
    this.all.set(batch.id, batch);
    return { status: 200, body: this.view(batch) };
  }

  /** POST /v1/batches/{id}/requests: all or nothing; a batch_request_id already in the batch refuses the call. */
  add(id: string, body: Record<string, unknown>, origin: string): Answer {
    const batch = this.all.get(id);
    if (!batch) return notFound(id);
    const list = body.batch_requests;
    if (!Array.isArray(list) || list.length === 0) return invalid('batch_requests: a non-empty list');
    const seen = new Set(batch.entries.map((e) => e.id));
    for (const [i, r] of list.entries()) {
      const rid = (r as { batch_request_id?: unknown } | null)?.batch_request_id;
      if (typeof rid !== 'string' || !rid) return invalid(`batch_requests[${i}].batch_request_id: required`);
      if (seen.has(rid)) return invalid(`batch_requests[${i}].batch_request_id: "${rid}" is already in batch ${id}`);
      seen.add(rid);
      const req = (r as { batch_request?: Record<string, unknown> }).batch_request ?? {};
      if (!req.video_generation && !req.image_generation) return invalid(`batch_requests[${i}].batch_request: video_generation or image_generation`);
    }
    for (const r of list as Array<{ batch_request_id: string; batch_request: Record<string, Record<string, unknown>> }>) {
      batch.entries.push(this.start(r.batch_request_id, r.batch_request, origin));
    }
    return { status: 200, body: {} };
  }

  /** GET /v1/batches/{id}. */
  get(id: string): Answer {
    const batch = this.all.get(id);
    return batch ? { status: 200, body: this.view(batch) } : notFound(id);
  }

  /** GET /v1/batches/{id}/requests: each request's id and state. */
  requests(id: string): Answer {
    const batch = this.all.get(id);
    if (!batch) return notFound(id);
    return { status: 200, body: { batch_request_metadata: batch.entries.map((e) => ({ batch_request_id: e.id, state: this.state(e) })) } };
  }

  /** GET /v1/batches/{id}/results?page_size&pagination_token: the finished requests' results. */
  results(id: string, origin: string, query: URLSearchParams): Answer {
    const batch = this.all.get(id);
    if (!batch) return notFound(id);
    const size = Math.min(PAGE, Math.max(1, Number(query.get('page_size') ?? PAGE) || PAGE));
    const from = Number(query.get('pagination_token') ?? 0) || 0;
    const finished = batch.entries.filter((e) => this.state(e) !== 'pending');
    const page = finished.slice(from, from + size).map((e) => ({ batch_request_id: e.id, batch_result: this.result(e, origin) }));
    return { status: 200, body: { results: page, pagination_token: from + size < finished.length ? String(from + size) : null } };
  }

  private start(rid: string, req: Record<string, Record<string, unknown>>, origin: string): Entry {
    const share = this.xai.batchPriceShare;
    if (req.image_generation) {
      const a = this.xai.submitImage(req.image_generation, origin, share);
      if (a.status !== 200) return { id: rid, kind: 'image', error: errorOf(a) };
      return { id: rid, kind: 'image', image: { body: a.body, readyAt: Date.now() + a.delayMs } };
    }
    const body = req.video_generation!;
    const rawPrompt = typeof body.prompt === 'string' ? body.prompt : '';
    const { prompt, scenario } = parseXaiScenario(rawPrompt);
    const checked = this.xai.videoProblem('videos/generations', body, prompt);
    if (typeof checked === 'string') return { id: rid, kind: 'video', error: { code: 'invalid_argument', message: checked } };
    const r = this.xai.startVideo('videos/generations', body, prompt, scenario, checked, share);
    this.xai.record('videos/generations', prompt, rawPrompt, { status: 200, body: { request_id: r.id } }, r.id);
    return { id: rid, kind: 'video', videoId: r.id };
  }


  private state(e: Entry): 'pending' | 'succeeded' | 'failed' {
    if (e.error) return 'failed';
    if (e.image) return Date.now() >= e.image.readyAt ? 'succeeded' : 'pending';
    const r = this.xai.requests.get(e.videoId!)!;
    if (!this.xai.finished(r)) return 'pending';
    return r.scenario.failed || r.scenario.expired ? 'failed' : 'succeeded';
  }

  private result(e: Entry, origin: string): unknown {
    if (e.error) return { error: e.error };
    if (e.image) return { response: { image_generation: e.image.body } };
    const body = this.xai.videoResult(this.xai.requests.get(e.videoId!)!, origin) as { status: string; error?: unknown };
    if (body.status === 'failed') return { error: body.error };
    if (body.status === 'expired') return { error: { code: 'expired', message: 'The request expired before it finished' } };
    return { response: { video_generation: body } };
  }

  private view(b: XaiBatch): Record<string, unknown> {
    const states = b.entries.map((e) => this.state(e));
    const n = (s: string) => states.filter((x) => x === s).length;
    return {
      batch_id: b.id,
      name: b.name,
      create_time: new Date(b.createdAt).toISOString(),
      state: { num_requests: b.entries.length, num_pending: n('pending'), num_success: n('succeeded'), num_error: n('failed'), num_cancelled: 0 },
    };
  }
}

function notFound(id: string): Answer {
  return { status: 404, body: { code: 'not_found', error: `No batch with id ${id}` } };
}

function errorOf(a: Answer): { code: string; message: string } {
  const b = a.body as { code?: string; error?: string };
  return { code: b.code ?? 'invalid_argument', message: b.error ?? `HTTP ${a.status}` };
}
