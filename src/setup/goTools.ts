import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { GO_TOOLS, TOOLS_BIN, type GoTool } from './tools';

const run = promisify(execFile);
const stampFile = (tool: GoTool) => path.join(TOOLS_BIN, `.${tool}.version`);

export interface ToolResult {
  path: string;
  action: 'reused' | 'installed' | 'on PATH';
}

/** Reuses the pinned binary when its stamp matches, else builds it with `go install`. */
export async function ensureGoTool(tool: GoTool): Promise<ToolResult> {
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
  const args = ['install', ...(spec.ldflags ? [`-ldflags=${spec.ldflags}`] : []), `${spec.module}@${spec.version}`];
  try {
    await run('go', args, { env: { ...process.env, GOBIN: TOOLS_BIN }, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? err).trim().split('\n').slice(-3).join('\n');
    throw new Error(`go ${args.join(' ')} failed:\n${stderr}`);
  }
  fs.writeFileSync(stampFile(tool), `${spec.version}\n`);
  return { path: binary, action: 'installed' };
}
