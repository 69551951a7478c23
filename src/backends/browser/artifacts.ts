import fs from 'node:fs';
import path from 'node:path';
import type { Session } from './browser';
import { scrubTrace } from './traceScrub';

/**
 * Saves a screenshot, the page HTML and (when tracing) a Playwright trace of a failed run
 * under `<artifactsDir>/<jobId>/item-<index>-<time>-<kind>/`. Never throws; returns the
 * folder, or undefined if nothing could be saved. Cookies and storage state are never
 * written here: the HTML of a page does not contain HttpOnly cookies, and the trace is
 * scrubbed of cookies and auth headers.
 */
export async function saveArtifacts(
  session: Session,
  artifactsDir: string,
  jobId: string,
  itemIndex: number,
  kind: string,
): Promise<string | undefined> {
  const safeJob = jobId.replace(/[^A-Za-z0-9._-]/g, '_');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = path.resolve(artifactsDir, safeJob, `item-${itemIndex}-${stamp}-${kind}`);
  try {
    await fs.promises.mkdir(dir, { recursive: true });
  } catch {
    return undefined;
  }
  const page = session.page;
  const tasks: Array<Promise<unknown>> = [];
  if (!session.closed && !page.isClosed()) {
    tasks.push(page.screenshot({ path: path.join(dir, 'screenshot.png'), fullPage: true, timeout: 5000 }).catch(() => undefined));
    tasks.push(
      page
        .content()
        .then((html) => fs.promises.writeFile(path.join(dir, 'page.html'), `<!-- ${page.url()} -->\n${html}`))
        .catch(() => undefined),
    );
  }
  await Promise.all(tasks);
  if (session.tracing && !session.closed) {
    const trace = path.join(dir, 'trace.zip');
    await session.context.tracing.stop({ path: trace }).catch(() => undefined);
    // A trace that cannot be scrubbed is deleted, never kept with the session in it.
    if (fs.existsSync(trace)) await scrubTrace(trace).catch(() => fs.promises.rm(trace, { force: true }));
  }
  return dir;
}
