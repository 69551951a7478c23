import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import os from 'node:os';
import type { Config } from './config';

export type { Logger };

// Secrets must never reach a log line, whatever object a caller hands the logger.
const REDACT = [
  'cookie', 'cookies', 'storageState', 'authorization', 'password', 'token',
  '*.cookie', '*.cookies', '*.storageState', '*.authorization', '*.password', '*.token',
  'headers.cookie', 'headers.authorization', '*.headers.cookie', '*.headers.authorization',
  'apiKey', '*.apiKey', 'XAI_API_KEY', '*.XAI_API_KEY',
];

export function workerIdentity(role: string): string {
  return `${role}@${os.hostname()}:${process.pid}`;
}

export function createLogger(config: Pick<Config, 'LOG_LEVEL' | 'LOG_PRETTY'>, bindings: Record<string, unknown> = {}): Logger {
  const options = { level: config.LOG_LEVEL, base: bindings, redact: { paths: REDACT, censor: '[redacted]' } };
  const isPretty = config.LOG_PRETTY ?? process.stdout.isTTY === true;
  // pino-pretty as a plain stream (not a transport thread): synchronous and tsx-friendly.
  return isPretty ? pino(options, pretty({ colorize: true, sync: true })) : pino(options);
}
