import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { DrizzleQueryError } from 'drizzle-orm/errors';

/**
 * drizzle's DrizzleQueryError reads "Failed query: <sql> params: <values>" and keeps the
 * database's own message in its cause: a failed activity's log line and its history then
 * carry the parameter values (a payload, an account) and not why the query failed. This
 * rewrites it into the database's message and the query text, with every parameter value
 * that shows up in the message blanked out.
 */
export function databaseFailure(err: unknown): ApplicationFailure | undefined {
  const query = findCause(err, (e): e is DrizzleQueryError => e instanceof DrizzleQueryError);
  if (!query) return undefined;
  const db = query.cause as (Error & { code?: string }) | undefined;
  let reason = db?.message ?? 'no message from the database';
  for (const p of query.params ?? []) {
    const text = typeof p === 'string' ? p : p === null || p === undefined ? '' : JSON.stringify(p);
    if (text.length >= 3) reason = reason.split(text).join('[redacted]');
  }
  return ApplicationFailure.create({
    type: 'DatabaseError',
    message: `database error${db?.code ? ` ${db.code}` : ''}: ${reason} (query: ${query.query})`,
  });
}

function findCause<T extends Error>(err: unknown, is: (e: unknown) => e is T): T | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as Error).cause, depth++) if (is(e)) return e;
  return undefined;
}

/** Activity interceptor: a database failure leaves the activity as databaseFailure() says. */
export const databaseErrorInterceptor: ActivityInterceptorsFactory = () => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        throw databaseFailure(err) ?? err;
      }
    },
  },
});
