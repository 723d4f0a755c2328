import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { Settings } from '../config/settings';
import { describeConnectError } from '../errors';

type TemporalSettings = Settings['temporal'];

function tlsOptions(t: TemporalSettings) {
  if (!t.tls && !t.apiKey) return undefined;
  if (t.tlsCertPath && t.tlsKeyPath) {
    return { clientCertPair: { crt: readFileSync(t.tlsCertPath), key: readFileSync(t.tlsKeyPath) } };
  }
  return true as const;
}

function common(t: TemporalSettings) {
  const tls = tlsOptions(t);
  return { address: t.address, ...(tls ? { tls } : {}), ...(t.apiKey ? { apiKey: t.apiKey } : {}) };
}

/** A client for starting and describing workflows. Fails with a message naming TEMPORAL_ADDRESS. */
export async function connectClient(t: TemporalSettings): Promise<Client> {
  try {
    const connection = await Connection.connect({ ...common(t), connectTimeout: '5s' });
    return new Client({ connection, namespace: t.namespace });
  } catch (err) {
    throw describeConnectError('Temporal', 'TEMPORAL_ADDRESS', t.address, err);
  }
}

export async function connectWorker(t: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(common(t));
  } catch (err) {
    throw describeConnectError('Temporal', 'TEMPORAL_ADDRESS', t.address, err);
  }
}
