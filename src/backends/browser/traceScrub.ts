import fs from 'node:fs';
import { strFromU8, strToU8, unzip, zip, type Unzipped } from 'fflate';
import { SECRET_KEYS } from '../../shared/secrets';

// A Playwright trace records every request with its Cookie header and HAR cookie list, and
// the calls that carry cookies: a trace left as saved would hand the account's session to
// whoever reads artifacts/. Scrubbed before anyone can.

export const REDACTED = '[redacted by grokflow]';
// Header names and object keys judged by the one list of secrets (src/shared/secrets.ts).
const SECRET_NAMES = new Set(SECRET_KEYS.map((k) => k.toLowerCase()));
const isSecretName = (name: unknown) => typeof name === 'string' && SECRET_NAMES.has(name.toLowerCase());

function isNamedValue(x: unknown): x is { name?: unknown; value: unknown } {
  return typeof x === 'object' && x !== null && 'value' in x;
}

/** Blanks, in place, every cookie value, secret header and secret-named field of a trace event. */
function redact(v: unknown, key?: string): void {
  if (Array.isArray(v)) {
    for (const x of v) {
      if (key === 'cookies' && isNamedValue(x)) x.value = REDACTED;
      else if (key === 'headers' && isNamedValue(x) && isSecretName(x.name)) x.value = REDACTED;
      else redact(x);
    }
  } else if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    for (const [k, x] of Object.entries(o)) {
      // A storage state, password or token given as a plain value (e.g. the context's options).
      if (isSecretName(k) && k !== 'cookies' && k !== 'headers' && x !== null && typeof x !== 'object') o[k] = REDACTED;
      else if (k === 'storageState' && x !== null) o[k] = REDACTED;
      else redact(x, k);
    }
  }
}

function scrubEvents(text: string): string {
  return text
    .split('\n')
    .map((line) => {
      if (!line.trim()) return line;
      const event: unknown = JSON.parse(line);
      redact(event);
      return JSON.stringify(event);
    })
    .join('\n');
}

const unzipAsync = (data: Uint8Array) => new Promise<Unzipped>((resolve, reject) => unzip(data, (err, files) => (err ? reject(err) : resolve(files))));
const zipAsync = (files: Unzipped) => new Promise<Uint8Array>((resolve, reject) => zip(files, (err, data) => (err ? reject(err) : resolve(data))));

/** Rewrites a trace.zip with cookies and auth headers redacted. Throws if it cannot. */
export async function scrubTrace(file: string): Promise<void> {
  const files = await unzipAsync(await fs.promises.readFile(file));
  for (const [name, bytes] of Object.entries(files)) {
    // The event logs (trace.trace, trace.network, one pair per chunk); resources are bodies.
    if (/\.(trace|network)$/.test(name)) files[name] = strToU8(scrubEvents(strFromU8(bytes)));
  }
  const tmp = `${file}.tmp`;
  try {
    await fs.promises.writeFile(tmp, await zipAsync(files), { mode: 0o600 });
    await fs.promises.rename(tmp, file);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
