import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

// The only files the console serves: under DOWNLOADS_DIR and ARTIFACTS_DIR, through
// @fastify/static (send), which answers Range requests (a <video> seeks with them) and
// refuses paths that climb out of its root. A file is named by its path under the root;
// a path stored in the database that lies elsewhere gets no link at all.

export interface FileRoots {
  downloads: string;
  artifacts: string;
}

export const DOWNLOADS_PREFIX = '/files/downloads/';
export const ARTIFACTS_PREFIX = '/files/artifacts/';

export function registerFiles(app: FastifyInstance, roots: FileRoots): void {
  for (const [root, prefix] of [[roots.downloads, DOWNLOADS_PREFIX], [roots.artifacts, ARTIFACTS_PREFIX]] as const) {
    void app.register(fastifyStatic, {
      root,
      prefix,
      decorateReply: false,
      index: false,
      list: false,
      dotfiles: 'deny',
      allowedPath: (pathname, root) => insideRealRoot(root as string, pathname),
      // A failure's page.html is Grok's page: sandboxed, it can run nothing in the console's origin.
      setHeaders: (res) => res.setHeader('content-security-policy', "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"),
    });
  }
}

/**
 * send already refuses `..`; this also refuses a symbolic link under the root that points
 * outside it (send follows links). Missing files are refused here too: a 404 either way.
 */
function insideRealRoot(root: string, pathname: string): boolean {
  try {
    const realRoot = fs.realpathSync(root);
    const real = fs.realpathSync(path.join(root, pathname));
    const rel = path.relative(realRoot, real);
    return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
  } catch {
    return false;
  }
}

/** The URL of a file under a root, or undefined when the path lies outside it. */
export function fileUrl(root: string, prefix: string, file: string | null | undefined): string | undefined {
  if (!file) return undefined;
  const rel = path.relative(root, path.resolve(root, file));
  if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return prefix + rel.split(path.sep).map(encodeURIComponent).join('/');
}

export interface FailureArtifacts {
  item: number;
  folder: string;
  screenshot?: string;
  html?: string;
  trace?: string;
}

/** The failure folders the driver saved for a job: `<ARTIFACTS_DIR>/<jobId>/item-<index>-<time>-<kind>/`. */
export function jobArtifacts(root: string, jobId: number): FailureArtifacts[] {
  const dir = path.join(root, String(jobId));
  let folders: string[];
  try {
    folders = fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: FailureArtifacts[] = [];
  for (const folder of folders) {
    const m = /^item-(\d+)-/.exec(folder);
    if (!m) continue;
    const url = (name: string) => {
      const file = path.join(dir, folder, name);
      return fs.existsSync(file) ? fileUrl(root, ARTIFACTS_PREFIX, file) : undefined;
    };
    out.push({ item: Number(m[1]), folder, screenshot: url('screenshot.png'), html: url('page.html'), trace: url('trace.zip') });
  }
  return out;
}
