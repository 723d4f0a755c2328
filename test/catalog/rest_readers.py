# Reads coldtier's tables through its Iceberg REST catalog, the way an analyst's engine does:
#   pyiceberg: RestCatalog lists namespaces and tables, loads each table and scans it;
#   duckdb:    ATTACH ... (TYPE ICEBERG) with DuckDB's iceberg extension, count(*) and a checksum per table.
# Both print one JSON object: per table the row count, a hash of the sorted key strings and exact sums, computed
# the same way as test/catalog-server.test.ts computes them over the ClickHouse source.
#   pyiceberg-writes: every write PyIceberg offers, each of which the catalog must refuse.
# Input: one JSON argument {mode, uri, token, warehouse, namespace, s3?, tables: [{name, key, sums}], extensions?}.
import glob
import hashlib
import json
import site
import sys
from decimal import Decimal, getcontext

getcontext().prec = 100


def canon(v):
    if v is None:
        return "\\N"
    if isinstance(v, Decimal):
        s = format(v.normalize(), "f")
        return "0" if s == "-0" else s
    return str(v)


def facts(key_rows, sum_cols):
    lines = sorted("|".join(canon(v) for v in row) for row in key_rows)
    return {
        "rows": len(lines),
        "keyHash": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "sums": {n: canon(sum((v for v in col if v is not None), Decimal(0))) for n, col in sum_cols.items()},
    }


def pyiceberg(cfg):
    import pyarrow as pa
    from pyiceberg.catalog.rest import RestCatalog

    props = {"uri": cfg["uri"], "token": cfg["token"], "warehouse": cfg["warehouse"]}
    if cfg.get("s3"):
        props.update(cfg["s3"])
    cat = RestCatalog("coldtier", **props)
    ns = cfg["namespace"]
    out = {
        "namespaces": [list(n) for n in cat.list_namespaces()],
        "tables": sorted(name for _, name in cat.list_tables(ns)),
        "exists": cat.table_exists((ns, cfg["tables"][0]["name"])),
        "scans": {},
    }
    for spec in cfg["tables"]:
        t = cat.load_table((ns, spec["name"]))
        rows = t.scan().to_arrow()

        def values(name):
            col = rows.column(name)
            return (col.cast(pa.int64()) if pa.types.is_timestamp(col.type) else col).to_pylist()

        keys = list(zip(*[values(k) for k in spec["key"]]))
        out["scans"][spec["name"]] = {
            **facts(keys, {n: rows.column(n).to_pylist() for n in spec["sums"]}),
            "metadataLocation": t.metadata_location,
            "snapshot": str(t.current_snapshot().snapshot_id),
        }
    return out


def duckdb_reader(cfg):
    import duckdb

    con = duckdb.connect(config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    # DuckDB cannot download extensions here: load the PyPI packages' files.
    sp = site.getsitepackages()[0]
    for ext in ["httpfs", "avro", "iceberg"]:
        con.execute(f"LOAD '{glob.glob(f'{sp}/duckdb_extension_{ext}/extensions/*/{ext}.duckdb_extension')[0]}'")
    if cfg.get("s3"):
        s3 = cfg["s3"]
        endpoint = s3["s3.endpoint"].split("://", 1)
        con.execute(
            "CREATE SECRET minio (TYPE S3, KEY_ID ?, SECRET ?, REGION ?, ENDPOINT ?, URL_STYLE 'path', USE_SSL ?)",
            [s3["s3.access-key-id"], s3["s3.secret-access-key"], s3["s3.region"], endpoint[1], endpoint[0] == "https"],
        )
    con.execute("CREATE SECRET rest (TYPE ICEBERG, TOKEN ?)", [cfg["token"]])
    # Without credential vending the reader brings its own S3 secret: ACCESS_DELEGATION_MODE 'none' makes DuckDB use
    # it instead of a table secret built from the load-table config (which then holds no keys).
    delegation = ", ACCESS_DELEGATION_MODE 'none'" if cfg.get("s3") else ""
    con.execute(f"ATTACH '{cfg['warehouse']}' AS cold (TYPE ICEBERG, ENDPOINT '{cfg['uri']}', SECRET rest{delegation})")
    ns = cfg["namespace"]
    out = {"tables": sorted(r[0] for r in con.execute(f"SELECT table_name FROM information_schema.tables WHERE table_catalog = 'cold' AND table_schema = '{ns}'").fetchall()), "scans": {}}
    for spec in cfg["tables"]:
        t = f'cold."{ns}"."{spec["name"]}"'
        count = con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        key = ", ".join(f'"{k}"' for k in spec["key"])
        rows = con.execute(f"SELECT {key} FROM {t}").fetchall()
        sums = {n: [con.execute(f'SELECT sum("{n}") FROM {t}').fetchone()[0]] for n in spec["sums"]}
        out["scans"][spec["name"]] = {**facts(rows, sums), "count": count}
    return out


def pyiceberg_writes(cfg):
    """Each write a client may try: the exception PyIceberg raises and its message."""
    from pyiceberg.catalog.rest import RestCatalog
    from pyiceberg.schema import Schema
    from pyiceberg.types import LongType, NestedField

    cat = RestCatalog("coldtier", uri=cfg["uri"], token=cfg["token"], warehouse=cfg["warehouse"], **(cfg.get("s3") or {}))
    ns, name = cfg["namespace"], cfg["tables"][0]["name"]
    attempts = {
        "create_table": lambda: cat.create_table((ns, "intruder"), Schema(NestedField(1, "x", LongType(), required=False))),
        "drop_table": lambda: cat.drop_table((ns, name)),
        "rename_table": lambda: cat.rename_table((ns, name), (ns, name + "_renamed")),
        "create_namespace": lambda: cat.create_namespace("intruders"),
        "drop_namespace": lambda: cat.drop_namespace(ns),
    }
    out = {}
    for what, attempt in attempts.items():
        try:
            attempt()
            out[what] = {"error": None}
        except Exception as e:  # noqa: BLE001 - the class is what the test checks
            out[what] = {"error": type(e).__name__, "message": str(e)}
    return out


def main():
    cfg = json.loads(sys.argv[1])
    modes = {"pyiceberg": pyiceberg, "duckdb": duckdb_reader, "pyiceberg-writes": pyiceberg_writes}
    print(json.dumps(modes[cfg["mode"]](cfg)))


if __name__ == "__main__":
    main()
