import type { CDPSession, Page, Response } from 'playwright';
import { URLS } from './selectors';

// Network first: the generation as its own HTTP traffic tells it. Grok starts a video with a
// POST to /rest/app-chat/conversations/new whose response streams JSON lines: first
// `result.conversation`, then `result.response.userResponse` (the message as taken), then
// `result.response.streamingVideoGenerationResponse { videoId, videoPostId, parentPostId,
// progress, moderated, videoPrompt, videoUrl }` lines, one series per candidate video
// (`moderated` is only ever true at 100 %). Side by side, a candidate may end blocked
// (`isSoftBlock` / `isDisallowed`): the generation is moderated only when every candidate is
// blocked; one shown is the video; two shown are the page's A/B choice. The page's DOM stays
// the fallback (other transports, other UIs) and the cross-check.
//
// Playwright gives a response's body only once it has ended, so the live lines are read over
// the page's own DevTools session (Network.streamResourceContent): nothing is injected into
// the page and nothing it sees changes. The ended body (page.on('response')) is read too, so
// the final line is never missed.

export interface Candidate {
  videoId: string;
  progress: number;
  /** Absolute URL, once it is ready. */
  url?: string;
  /** isSoftBlock or isDisallowed: never shown. */
  blocked: boolean;
}

export interface GenerationState {
  conversationId?: string;
  /** The finished video's id (the one candidate shown). */
  videoId?: string;
  /** Grok's post of the new video, and the image post it animates. */
  videoPostId?: string;
  parentPostId?: string;
  progress?: number;
  moderated: boolean;
  /** Why moderated, in words (one moderated video, or every candidate blocked). */
  moderatedWhy?: string;
  /** Absolute URL of the finished video. */
  videoUrl?: string;
  /** An error line of the stream. */
  error?: string;
  /** More than one candidate shown: the page asks for its A/B choice. */
  choice: boolean;
  candidates: Map<string, Candidate>;
}

interface VideoLine {
  videoId?: string;
  videoPostId?: string;
  parentPostId?: string;
  progress?: number;
  moderated?: boolean;
  videoUrl?: string;
  isSoftBlock?: boolean;
  isDisallowed?: boolean;
}

interface Line {
  result?: { conversation?: { conversationId?: string }; response?: { streamingVideoGenerationResponse?: VideoLine; videoChoice?: unknown } };
  error?: { message?: string };
}

export class GenerationTraffic {
  readonly state: GenerationState = { moderated: false, choice: false, candidates: new Map() };
  private readonly buffers = new Map<string, string>();
  /** The JSON lines as received live, and as the ended body held them (either may be missing). */
  private readonly liveLines: string[] = [];
  private endedLines: string[] = [];
  private readonly onResponse = (r: Response) => void this.readEnded(r);
  private readonly waiters = new Set<() => void>();

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

  /** The generation's stream is being read: its lines, not the DOM, tell its progress. */
  live(): boolean {
    return this.state.progress !== undefined;
  }

  /**
   * Resolves at the stream's next line, or after `ms` (whichever first); rejects when the
   * signal aborts. The watch loop waits here instead of polling the page.
   */
  nextChange(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        reject(signal!.reason);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  async dispose(): Promise<void> {
    this.page.off('response', this.onResponse);
    await this.cdp?.detach().catch(() => {});
  }

  private async readEnded(r: Response): Promise<void> {
    if (r.request().method() !== 'POST' || !URLS.isGenerationStream(r.url()) || r.status() !== 200) return;
    const body = await r.text().catch(() => undefined);
    if (body === undefined) return;
    this.endedLines = body.split('\n').filter((l) => l.trim());
    for (const line of body.split('\n')) this.apply(line, r.url());
  }

  /** Every line of the generation's response, in order: what the page received. */
  lines(): string[] {
    return this.endedLines.length >= this.liveLines.length ? [...this.endedLines] : [...this.liveLines];
  }

  private feed(requestId: string, chunk: string): void {
    const lines = ((this.buffers.get(requestId) ?? '') + chunk).split('\n');
    this.buffers.set(requestId, lines.pop() ?? '');
    for (const line of lines) {
      if (line.trim()) this.liveLines.push(line);
      this.apply(line, this.page.url());
    }
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
    for (const wake of [...this.waiters]) wake();
    if (line.error) s.error = line.error.message ?? 'error';
    if (line.result?.conversation?.conversationId) s.conversationId = line.result.conversation.conversationId;
    if (line.result?.response?.videoChoice) s.choice = true;
    const v = line.result?.response?.streamingVideoGenerationResponse;
    if (!v) return;
    if (v.videoPostId) s.videoPostId = v.videoPostId;
    if (v.parentPostId) s.parentPostId = v.parentPostId;
    // Lines may arrive twice (live and from the ended body): progress only moves forward.
    if (typeof v.progress === 'number' && v.progress >= (s.progress ?? 0)) s.progress = Math.min(100, v.progress);
    if (v.moderated) {
      s.moderated = true;
      s.moderatedWhy = 'Content Moderated (reported by the generation stream)';
    }
    const id = v.videoId ?? '';
    const c = s.candidates.get(id) ?? { videoId: id, progress: 0, blocked: false };
    s.candidates.set(id, c);
    if (typeof v.progress === 'number') c.progress = Math.max(c.progress, Math.min(100, v.progress));
    if (v.videoUrl) c.url = new URL(v.videoUrl, base).toString();
    if (v.isSoftBlock || v.isDisallowed) c.blocked = true;
    this.settle();
  }

  /** Once every candidate has a URL or is blocked: the video, the A/B choice, or moderated. */
  private settle(): void {
    const s = this.state;
    const all = [...s.candidates.values()];
    if (all.length === 0 || !all.every((c) => c.blocked || c.url)) return;
    const shown = all.filter((c) => !c.blocked);
    if (shown.length === 0) {
      s.moderated = true;
      s.moderatedWhy = `Content Moderated: every candidate video was blocked (${all.length} of ${all.length}, reported by the generation stream)`;
    } else if (shown.length === 1) {
      s.videoUrl = shown[0]!.url;
      s.videoId = shown[0]!.videoId || undefined;
    } else {
      s.choice = true;
    }
  }
}
