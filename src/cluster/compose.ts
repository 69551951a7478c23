import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../setup/tools';

// docker-compose.yml read as the recipe for `npm run cluster`: the commands, scripts and
// environment of its services, so that running the cluster from processes checks them.

export interface ComposeService {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, unknown> | string[];
  volumes?: (string | { source?: string; target?: string })[];
  init?: boolean;
  stop_grace_period?: string;
}

export const COMPOSE_FILE = path.join(PROJECT_ROOT, 'docker-compose.yml');

export function composeServices(file = COMPOSE_FILE): Record<string, ComposeService> {
  const doc = parse(fs.readFileSync(file, 'utf8'), { merge: true }) as { services?: Record<string, ComposeService> };
  if (!doc.services) throw new Error(`${file} has no services`);
  return doc.services;
}

export function composeService(name: string, services = composeServices()): ComposeService {
  const s = services[name];
  if (!s) throw new Error(`service ${name} is missing from docker-compose.yml`);
  return s;
}

/** The service's environment as strings; `${VAR:-default}` interpolations are left as written. */
export function serviceEnv(s: ComposeService): Record<string, string> {
  const e = s.environment ?? {};
  if (Array.isArray(e)) {
    return Object.fromEntries(e.map((kv) => {
      const i = kv.indexOf('=');
      return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v == null ? '' : String(v)]));
}

/** What the container runs: entrypoint then command, as one argv. */
export function serviceArgv(s: ComposeService): string[] {
  const words = (v: string[] | string | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean));
  return [...words(s.entrypoint), ...words(s.command)];
}

/**
 * The repository file behind a path inside the container: through the service's bind mounts
 * of repository files, else the image's WORKDIR (/app), which is a copy of the repository.
 */
export function hostPath(s: ComposeService, containerPath: string): string {
  for (const v of s.volumes ?? []) {
    const [source, target] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
    if (!source?.startsWith('.') || !target) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return path.join(PROJECT_ROOT, source, containerPath.slice(target.length));
    }
  }
  if (containerPath.startsWith('/app/')) return path.join(PROJECT_ROOT, containerPath.slice('/app/'.length));
  throw new Error(`${containerPath} is neither mounted from the repository nor under /app`);
}

/** The service's argv run on this machine: container paths made repository files, `node` this node. */
export function hostArgv(s: ComposeService): string[] {
  const argv = serviceArgv(s).map((a) => (a.startsWith('/') ? hostPath(s, a) : a));
  if (argv[0] === 'node') argv[0] = process.execPath;
  return argv;
}
