// Adds Iceberg field ids to a Parquet file's schema by rewriting only its footer (FileMetaData). The column chunks,
// page indexes and bloom filters stay where they are: every offset in the footer still points at the same bytes.
import { decodeStruct, encodeStruct, T, type TList, type TStruct } from './thrift-compact';

const SCHEMA = 2; // FileMetaData.schema: list<SchemaElement>
const NAME = 4; // SchemaElement.name
const NUM_CHILDREN = 5;
const FIELD_ID = 9; // SchemaElement.field_id

/** `parquet` with field_id set on each top-level column, by name. Nested columns are not handled by this prototype. */
export function withFieldIds(parquet: Uint8Array, idsByName: Map<string, number>): Uint8Array {
  const n = parquet.length;
  const view = new DataView(parquet.buffer, parquet.byteOffset, n);
  const footerLen = view.getUint32(n - 8, true);
  const footerStart = n - 8 - footerLen;
  const meta = decodeStruct(parquet.subarray(footerStart, n - 8));
  const schema = meta.find((f) => f.id === SCHEMA)!.value as TList;
  const dec = new TextDecoder();
  schema.items.forEach((item, i) => {
    if (i === 0) return; // the root
    const el = item as TStruct;
    if (el.some((f) => f.id === NUM_CHILDREN && Number(f.value) > 0)) throw new Error('nested columns are not handled by this prototype');
    const name = dec.decode(el.find((f) => f.id === NAME)!.value as Uint8Array);
    const id = idsByName.get(name);
    if (id === undefined) throw new Error(`column ${name} has no field id`);
    const at = el.findIndex((f) => f.id === FIELD_ID);
    const field = { id: FIELD_ID, type: T.I32, value: BigInt(id) };
    if (at >= 0) el[at] = field;
    else {
      el.push(field);
      el.sort((a, b) => a.id - b.id);
    }
  });
  const footer = encodeStruct(meta);
  const out = new Uint8Array(footerStart + footer.length + 8);
  out.set(parquet.subarray(0, footerStart), 0);
  out.set(footer, footerStart);
  const tail = new DataView(out.buffer, footerStart + footer.length, 8);
  tail.setUint32(0, footer.length, true);
  out.set([0x50, 0x41, 0x52, 0x31], footerStart + footer.length + 4); // PAR1
  return out;
}
