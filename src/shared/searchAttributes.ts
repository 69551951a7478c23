import type { ConnectionLike } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AccountKey, GrokflowInstanceKey, JobIdKey, JobTypeKey } from './searchAttributeKeys';

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;

export const SEARCH_ATTRIBUTES = {
  JobId: { key: JobIdKey, indexed: IndexedValueType.INDEXED_VALUE_TYPE_INT, cli: 'Int' },
  JobType: { key: JobTypeKey, indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, cli: 'Keyword' },
  Account: { key: AccountKey, indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, cli: 'Keyword' },
  GrokflowInstance: { key: GrokflowInstanceKey, indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD, cli: 'Keyword' },
} as const;

/** `Name=Type` for each, as the temporal CLI and docker/temporal/setup-namespace.sh take them. */
export function searchAttributeSpecs(): string[] {
  return Object.entries(SEARCH_ATTRIBUTES).map(([name, a]) => `${name}=${a.cli}`);
}

/** `--search-attribute` flags for `temporal server start-dev`. */
export function devServerSearchAttributeArgs(): string[] {
  return searchAttributeSpecs().flatMap((spec) => ['--search-attribute', spec]);
}

/** Registers the missing ones (a no-op when all exist). Returns the names it added. */
export async function ensureSearchAttributes(connection: Pick<ConnectionLike, 'operatorService'>, namespace: string): Promise<string[]> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  const known = new Set([...Object.keys(existing.customAttributes ?? {}), ...Object.keys(existing.systemAttributes ?? {})]);
  const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(([name, a]) => [name, a.indexed])),
    });
  } catch (err) {
    // Another process registered them between our list and add.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
  return missing.map(([name]) => name);
}
