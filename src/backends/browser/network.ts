import type { CDPSession, Page, Response } from 'playwright';
import { URLS } from './selectors';

// Network first: the generation as its own HTTP traffic tells it. Grok starts a video with a
// POST to /rest/app-chat/conversations/new whose response streams JSON lines; the ones that
// carry `streamingVideoGenerationResponse { videoId, progress, moderated, videoUrl }` are the
// generation's state (`moderated` is only ever true at 100 %). The page's DOM stays the
// fallback (other transports, other UIs) and the cross-check.
//
// Playwright gives a response's body only once it has ended, so the live lines are read over
// the page's own DevTools session (Network.streamResourceContent): nothing is injected into
// the page and nothing it sees changes. The ended body (page.on('response')) is read too, so
// the final line is never missed.

export interface GenerationState {
  videoId?: string;
  progress?: number;
  moderated: boolean;
  /** Absolute URL of the finished video. */
  videoUrl?: string;
  /** An error line of the stream. */
  error?: string;
  /** The stream asked for an A/B choice instead of one video. */
  choice: boolean;
}

interface Line {
  result?: { response?: { streamingVideoGenerationResponse?: { videoId?: string; progress?: number; moderated?: boolean; videoUrl?: string }; videoChoice?: unknown } };
  error?: { message?: string };
}

export class GenerationTraffic {
  readonly state: GenerationState = { moderated: false, choice: false };
  private readonly buffers = new Map<string, string>();
  private readonly onResponse = (r: Response) => void this.readEnded(r);

  private constructor(
    private readonly page: Page,
    private readonly cdp: CDPSession | undefined,
  ) {}

  /** Starts watching a page's generation traffic (before the generation is started). */
  static async watch(page: Page): Promise<GenerationTraffic> {
    const cdp = await page.context().newCDPSession(page).catch(() => undefined);
    const t = new GenerationTraffic(page, cdp);
    page.on('response', t.onResponse);
    if (cdp) {
      cdp.on('Network.responseReceived', (e) => {
        if (e.type !== 'Fetch' && e.type !== 'XHR') return;
        if (!URLS.isGenerationStream(e.response.url) || e.response.status !== 200) return;
        t.buffers.set(e.requestId, '');
        cdp
          .send('Network.streamResourceContent', { requestId: e.requestId })
          .then((r) => t.feed(e.requestId, Buffer.from(r.bufferedData, 'base64').toString('utf8')))
          .catch(() => {}); // already ended: the ended body covers it
      });
      cdp.on('Network.dataReceived', (e) => {
        if (t.buffers.has(e.requestId) && e.data) t.feed(e.requestId, Buffer.from(e.data, 'base64').toString('utf8'));
      });
      await cdp.send('Network.enable').catch(() => {});
    }
    return t;
  }

  async dispose(): Promise<void> {
    this.page.off('response', this.onResponse);
    await this.cdp?.detach().catch(() => {});
  }

  private async readEnded(r: Response): Promise<void> {
    if (r.request().method() !== 'POST' || !URLS.isGenerationStream(r.url()) || r.status() !== 200) return;
    const body = await r.text().catch(() => undefined);
    if (body === undefined) return;
    for (const line of body.split('\n')) this.apply(line, r.url());
  }

  private feed(requestId: string, chunk: string): void {
    const lines = ((this.buffers.get(requestId) ?? '') + chunk).split('\n');
    this.buffers.set(requestId, lines.pop() ?? '');
    for (const line of lines) this.apply(line, this.page.url());
  }

  private apply(raw: string, base: string): void {
    if (!raw.trim()) return;
    let line: Line;
    try {
      line = JSON.parse(raw) as Line;
    } catch {
      return; // not a JSON line: not ours to read
    }
    const s = this.state;
    if (line.error) s.error = line.error.message ?? 'error';
    if (line.result?.response?.videoChoice) s.choice = true;
    const v = line.result?.response?.streamingVideoGenerationResponse;
    if (!v) return;
    if (v.videoId) s.videoId = v.videoId;
    // Lines may arrive twice (live and from the ended body): progress only moves forward.
    if (typeof v.progress === 'number' && v.progress >= (s.progress ?? 0)) s.progress = Math.min(100, v.progress);
    if (v.moderated) s.moderated = true;
    if (v.videoUrl) s.videoUrl = new URL(v.videoUrl, base).toString();
  }
}
