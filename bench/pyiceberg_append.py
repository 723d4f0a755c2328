"""PyIceberg reference for `npm run bench`: append one file's rows to a fresh Iceberg table.

Usage: python bench/pyiceberg_append.py --input FILE(.arrow|.parquet) --warehouse DIR --name NAME [--partition-day COL]

Prints one JSON line: read_s (pyarrow reads the file into memory), append_s (create table + table.append), the
CPU seconds of both (all threads of the process: read_cpu_s, append_cpu_s),
rows, files and bytes (data files added). The catalog is an in-memory SQLite SqlCatalog with a local file
warehouse, so the catalog round trips are negligible and the figure is the append itself.
A day() partition spec needs the pyiceberg-core extension; without it the script refuses (the bench falls back
to --partition-day omitted and says so).
"""
import argparse
import json
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.transforms import DayTransform


def read(path: str) -> pa.Table:
    if path.endswith(".parquet"):
        return pq.read_table(path)
    with pa.OSFile(path, "rb") as f:
        return pa.ipc.open_file(f).read_all()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--warehouse", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--partition-day")
    args = ap.parse_args()

    os.makedirs(args.warehouse, exist_ok=True)
    catalog = SqlCatalog("bench", uri="sqlite:///:memory:", warehouse=f"file://{os.path.abspath(args.warehouse)}")
    catalog.create_namespace_if_not_exists("bench")

    t0, c0 = time.perf_counter(), time.process_time()
    rows = read(args.input)
    t1, c1 = time.perf_counter(), time.process_time()
    table = catalog.create_table(
        f"bench.{args.name}",
        schema=rows.schema,
        properties={"write.parquet.compression-codec": "zstd"},
    )
    if args.partition_day:
        with table.update_spec() as spec:
            spec.add_field(args.partition_day, DayTransform(), f"{args.partition_day}_day")
    table.append(rows)
    t2, c2 = time.perf_counter(), time.process_time()

    snap = table.current_snapshot()
    summary = snap.summary.additional_properties if snap and snap.summary else {}
    print(json.dumps({
        "read_s": t1 - t0,
        "append_s": t2 - t1,
        "read_cpu_s": c1 - c0,
        "append_cpu_s": c2 - c1,
        "rows": rows.num_rows,
        "files": int(summary.get("added-data-files", 0)),
        "bytes": int(summary.get("added-files-size", 0)),
    }))


if __name__ == "__main__":
    main()
