# Reads coldtier's tables the way a downstream user would: PyIceberg's
# SqlCatalog on the same Postgres catalog, data from S3. Prints one JSON
# object per table (counts, exact sums, a hash of sorted key strings, schema
# field ids, partition spec, snapshots, summary totals), and optionally dumps
# the scanned rows as Arrow IPC so ClickHouse can compare every cell with the
# source. Input: one JSON argument (see test/conformance.test.ts).
#
# Canonical key strings, computed identically in ClickHouse:
#   timestamps -> integer microseconds since the epoch
#   decimals   -> shortest plain form ('100', '0.5'), like ClickHouse's toString
#   null       -> \N
import hashlib
import json
import sys
from decimal import Decimal, getcontext

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io.pyarrow import pyarrow_to_schema, schema_to_pyarrow
from pyiceberg.schema import index_name_by_id


# The default 28 digits would round decimal(38, s) sums and normalize() results.
getcontext().prec = 100


def canon(v):
    if v is None:
        return "\\N"
    if isinstance(v, Decimal):
        s = format(v.normalize(), "f")
        return "0" if s == "-0" else s
    return str(v)


def column_values(table, name):
    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        col = col.cast(pa.int64())
    return col.to_pylist()


def main():
    cfg = json.loads(sys.argv[1])
    catalog = SqlCatalog(cfg["catalog"], uri=cfg["uri"], **cfg["props"])
    out = {}
    for spec in cfg["tables"]:
        t = catalog.load_table((cfg["namespace"], spec["name"]))
        rows = t.scan().to_arrow()
        keys = [column_values(rows, n) for n in spec["key"]]
        lines = sorted("|".join(canon(k[i]) for k in keys) for i in range(rows.num_rows))
        sums = {}
        for n in spec.get("sums", []):
            sums[n] = canon(sum((v for v in rows.column(n).to_pylist() if v is not None), Decimal(0)))
        result = {
            "rows": rows.num_rows,
            "keyHash": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            "sums": sums,
            "nulls": {f.name: rows.column(f.name).null_count for f in rows.schema},
            "schema": [{"id": f.field_id, "name": f.name, "type": str(f.field_type), "required": f.required} for f in t.schema().fields],
            "schemas": len(t.schemas()),
            "spec": [{"source-id": f.source_id, "field-id": f.field_id, "transform": str(f.transform), "name": f.name} for f in t.spec().fields],
            "snapshots": [
                {"id": str(s.snapshot_id), "parent": None if s.parent_snapshot_id is None else str(s.parent_snapshot_id), "operation": s.summary.operation.value}
                for s in t.snapshots()
            ],
            "summary": dict(t.current_snapshot().summary.additional_properties),
            # (inspect.files() cannot build readable metrics for uuid columns in 0.12; planning counts the same files.)
            "files": len(list(t.scan().plan_files())),
        }
        # The name mapping as PyIceberg parses it, and the field ids it resolves for files without ids
        # (the table's Arrow schema with the ids stripped), by full name (`tags.element`, `attrs.key`).
        mapping = t.name_mapping()
        if mapping is not None:
            result["nameMapping"] = json.loads(mapping.model_dump_json())
            mapped = pyarrow_to_schema(schema_to_pyarrow(t.schema(), include_field_ids=False), name_mapping=mapping)
            result["nameMappedIds"] = index_name_by_id(mapped)
            result["schemaIds"] = index_name_by_id(t.schema())
        if spec.get("filter"):
            scan = t.scan(row_filter=spec["filter"])
            result["filteredRows"] = scan.to_arrow().num_rows
            result["filteredTasks"] = len(list(scan.plan_files()))
        if spec.get("dump"):
            with open(spec["dump"], "wb") as f:
                w = pa.ipc.new_file(f, rows.schema)
                w.write_table(rows)
                w.close()
        out[spec["name"]] = result
    print(json.dumps(out))


main()
