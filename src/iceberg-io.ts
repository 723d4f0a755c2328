import { createFileIO, type FileIO } from './iceberg';
import type { Settings } from './config/settings';
import { describeConnectError } from './errors';

/** The warehouse FileIO, checked by listing the warehouse root so bad S3 settings fail at start with the setting named. */
export async function openFileIO(settings: Settings): Promise<FileIO> {
  const s3 = settings.s3;
  const io = createFileIO({
    s3: {
      region: s3.region,
      multipartThresholdBytes: s3.multipartThresholdMb * 1024 * 1024,
      ...(s3.endpoint ? { endpoint: s3.endpoint, forcePathStyle: true } : {}),
      ...(s3.accessKeyId ? { accessKeyId: s3.accessKeyId } : {}),
      ...(s3.secretAccessKey ? { secretAccessKey: s3.secretAccessKey } : {}),
    },
  });
  if (settings.warehouse.startsWith('s3://')) {
    try {
      await io.list(settings.warehouse.replace(/\/?$/, '/__coldtier_probe__/'));
    } catch (err) {
      throw describeConnectError('S3', 'ICEBERG_WAREHOUSE / S3_ENDPOINT / AWS_ACCESS_KEY_ID', settings.warehouse, err);
    }
  }
  return io;
}
