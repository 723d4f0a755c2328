// Worker thread of the pipeline prototype: decodes one batch's Arrow IPC stream and writes its data files.
import { parentPort } from 'node:worker_threads';
import { tableFromIPC } from 'apache-arrow';
import { createFileIO, writeDataFiles, type TableMetadata } from '../../src/iceberg';

const io = createFileIO({});
parentPort!.on('message', (m: { id: number; ipc: Uint8Array; meta: TableMetadata; sortOrderId: number }) => {
  void (async () => {
    try {
      const files = await writeDataFiles(io, m.meta, tableFromIPC(m.ipc), { sortOrderId: m.sortOrderId });
      parentPort!.postMessage({ id: m.id, files });
    } catch (err) {
      parentPort!.postMessage({ id: m.id, error: String((err as Error).stack ?? err) });
    }
  })();
});
