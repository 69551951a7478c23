import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GO_TOOLS, TEMPORAL_SERVER_VERSION, temporalSchemaDir, TOOLS_BIN, type GoTool } from './tools';

const run = promisify(execFile);
const stampFile = (tool: GoTool) => path.join(TOOLS_BIN, `.${tool}.version`);

export interface ToolResult {
  path: string;
  action: 'reused' | 'installed' | 'on PATH';
  /** How a build went: from the Go build cache (link only) or compiled, and how long it took. */
  note?: string;
}

/**
 * Reuses the pinned binary when its stamp matches, else builds it with `go install`. A
 * fresh clone has no .tools/bin, but Go keeps every compiled package in its build cache
 * (GOCACHE, per user): a rebuild then only links, seconds instead of minutes. `-x` lists
 * the commands go ran, so the result says which it was.
 */
export async function ensureGoTool(tool: GoTool, progress: (line: string) => void = () => undefined): Promise<ToolResult> {
  const spec = GO_TOOLS[tool];
  const binary = path.join(TOOLS_BIN, tool);
  const stamp = fs.existsSync(stampFile(tool)) ? fs.readFileSync(stampFile(tool), 'utf8').trim() : '';
  if (fs.existsSync(binary) && stamp === spec.version) return { path: binary, action: 'reused' };

  const go = await run('go', ['version']).catch(() => undefined);
  if (!go) {
    throw new Error(
      `${tool} ${spec.version} is missing and Go is not installed to build it. Install Go 1.23+ ` +
        `(https://go.dev/dl), or put a ${tool} binary on PATH, then run \`npm run setup\` again.`,
    );
  }
  fs.mkdirSync(TOOLS_BIN, { recursive: true });
  const args = ['install', '-x', ...(spec.ldflags ? [`-ldflags=${spec.ldflags}`] : []), `${spec.module}@${spec.version}`];
  progress(`building ${tool} ${spec.version} with go install (minutes the first time on this machine; seconds from the Go build cache)`);
  const started = Date.now();
  let compiled = 0;
  // `go install` names the binary after the package folder (`server`, `sql`): install into a
  // folder of its own, then move it to the tool's name (an atomic rename on the same disk).
  const staging = fs.mkdtempSync(path.join(TOOLS_BIN, `.${tool}-`));
  try {
    const { stderr } = await run('go', args, { env: { ...process.env, GOBIN: staging }, maxBuffer: 256 * 1024 * 1024 });
    // One compile command per package go could not take from its build cache.
    compiled = stderr.split('\n').filter((l) => /\/compile /.test(l)).length;
    fs.renameSync(path.join(staging, path.basename(spec.module)), binary);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? err).trim().split('\n').slice(-3).join('\n');
    throw new Error(`go ${args.join(' ')} failed:\n${stderr}`);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  fs.writeFileSync(stampFile(tool), `${spec.version}\n`);
  const seconds = Math.round((Date.now() - started) / 1000);
  const note = compiled === 0
    ? `built in ${seconds} s from the Go build cache (nothing compiled, linked only)`
    : `built in ${seconds} s, ${compiled} packages compiled (now in the Go build cache: the next build links only)`;
  return { path: binary, action: 'installed', note };
}

/**
 * The PostgreSQL schemas of the pinned Temporal server (what temporalio/admin-tools ships in
 * /etc/temporal/schema), copied out of the Go module cache: `<dir>/postgresql/v12/...`.
 */
export async function ensureTemporalSchema(): Promise<ToolResult> {
  const dir = temporalSchemaDir();
  if (fs.existsSync(path.join(dir, 'postgresql', 'v12', 'temporal', 'versioned'))) return { path: dir, action: 'reused' };
  const module = `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`;
  const { stdout } = await run('go', ['mod', 'download', '-json', module], { maxBuffer: 16 * 1024 * 1024 }).catch((err: unknown) => {
    throw new Error(`go mod download ${module} failed: ${String((err as { stderr?: string }).stderr ?? err).trim()}`);
  });
  const source = path.join((JSON.parse(stdout) as { Dir: string }).Dir, 'schema');
  const staging = `${dir}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.cpSync(source, staging, { recursive: true });
  // The module cache is read-only; the copy need not be.
  fs.chmodSync(staging, 0o755);
  fs.renameSync(staging, dir);
  return { path: dir, action: 'installed' };
}
