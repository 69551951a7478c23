import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from './config';

/** The address the service uses: the configured server, else the embedded dev server. */
export function temporalAddress(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_DEV_PORT'>): string {
  return config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_DEV_PORT}`;
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress(config) });
  return new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
}

export function connectWorker(config: Config): Promise<NativeConnection> {
  return NativeConnection.connect({ address: temporalAddress(config) });
}
