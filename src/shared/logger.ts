import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import os from 'node:os';
import type { Config } from './config';
import { REDACTED, SECRET_KEYS, secretScrubber } from './secrets';

export type { Logger };

// Secrets must never reach a log line, whatever object a caller hands the logger: keys
// named as secrets (src/shared/secrets.ts) are blanked by pino's redaction, and the
// finished line is scrubbed of every secret value the configuration holds (a password
// inside a URL, a key echoed in an error message) and of callbackUrl query values.
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`);
const REDACT = SECRET_KEYS.flatMap((k) => [key(k), `*.${key(k)}`, `*.headers.${key(k)}`, `*.*.${key(k)}`].map((p) => p.replace('.[', '[')));

export function workerIdentity(role: string): string {
  return `${role}@${os.hostname()}:${process.pid}`;
}

/** The logger of a process; `config` may carry the secret settings, whose values are scrubbed from every line. */
export function createLogger(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY'> & Partial<Config>,
  bindings: Record<string, unknown> = {},
  /** Where JSON lines go instead of stdout (a test reads them back). */
  destination?: pino.DestinationStream,
): Logger {
  const scrub = secretScrubber(config);
  const options: pino.LoggerOptions = {
    level: config.LOG_LEVEL,
    base: bindings,
    redact: { paths: REDACT, censor: REDACTED },
    hooks: { streamWrite: scrub },
  };
  const isPretty = config.LOG_PRETTY ?? process.stdout.isTTY === true;
  // pino-pretty as a plain stream (not a transport thread): synchronous and tsx-friendly.
  if (destination) return pino(options, destination);
  return isPretty ? pino(options, pretty({ colorize: true, sync: true })) : pino(options);
}
