import { ConfigError } from './config';
import type { Logger } from './logger';

/**
 * Runs a program's main and exits: 0 when it resolves (workers have stopped cleanly), 1
 * when it fails. A configuration error is a message for the user; anything else keeps its
 * stack for whoever reads the log.
 */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      const text = err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${text}\n`);
      process.exit(1);
    },
  );
}

/**
 * The first SIGINT/SIGTERM asks for a clean stop; a second one, while that stop waits on
 * running generations, exits at once.
 */
export function abortOnSignals(logger: Logger): AbortSignal {
  const abort = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (abort.signal.aborted) {
        logger.warn({ signal: sig }, 'second signal: exiting now');
        process.exit(130);
      }
      logger.info({ signal: sig }, 'shutdown requested');
      abort.abort();
    });
  }
  return abort.signal;
}

/**
 * Node's own warnings (a deprecation, too many listeners on an emitter) as log lines: Node
 * prints them to stderr as text, which breaks a JSON log (LOG_PRETTY=false) and loses the
 * stack that says where they came from. Its printer is the one 'warning' listener Node adds.
 */
export function logProcessWarnings(logger: Logger): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => logger.warn({ err: warning }, `node warning: ${warning.name}`));
}
