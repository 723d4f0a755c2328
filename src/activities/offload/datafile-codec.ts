import type { DataFile } from '../../iceberg';

/**
 * DataFile descriptions cross Temporal history between the fan-out write activities and the commit activity.
 * Temporal's JSON payloads cannot carry Uint8Array (column bounds) or bigint, so they are tagged here.
 */
export type EncodedDataFile = string;

export function encodeDataFiles(files: DataFile[]): EncodedDataFile[] {
  return files.map((f) =>
    JSON.stringify(f, (_k, v: unknown) => {
      if (v instanceof Uint8Array) return { $b64: Buffer.from(v).toString('base64') };
      if (typeof v === 'bigint') return { $big: v.toString() };
      return v;
    }),
  );
}

export function decodeDataFiles(files: EncodedDataFile[]): DataFile[] {
  return files.map(
    (s) =>
      JSON.parse(s, (_k, v: unknown) => {
        if (v && typeof v === 'object' && '$b64' in v) return new Uint8Array(Buffer.from((v as { $b64: string }).$b64, 'base64'));
        if (v && typeof v === 'object' && '$big' in v) return BigInt((v as { $big: string }).$big);
        return v;
      }) as DataFile,
  );
}
