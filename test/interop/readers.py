# Answers the differential pruning test's predicates with one reader, each with its own pruning on:
#   readers.py pyiceberg|duckdb|spark JOB.json  ->  JSON {table: {predicate id: [rows, sum of k]}} on stdout
# JOB.json: {"tables": [{"name", "metadata" (a metadata.json path), "predicates": [{"id", "text"}]}]}, the text
# in the reader's dialect (test/interop/predicates.ts). PyIceberg also reports the files it planned per predicate.
# Spark may instead read a table of coldtier's JDBC catalog ("ident", with job["catalog"]), after job["before"].
import glob, importlib, json, os, sys

reader, job_path = sys.argv[1], sys.argv[2]
job = json.load(open(job_path))
out = {}

if reader == "pyiceberg":
    from decimal import Decimal  # noqa: F401 (used by the predicate texts)
    from uuid import UUID  # noqa: F401
    from pyiceberg.expressions import *  # noqa: F401,F403
    from pyiceberg.table import StaticTable
    import pyarrow.compute as pc
    for t in job["tables"]:
        table = StaticTable.from_metadata(t["metadata"])
        res = {}
        for p in t["predicates"]:
            scan = table.scan(row_filter=eval(p["text"]), selected_fields=("k",))
            rows = scan.to_arrow()
            s = pc.sum(rows.column("k")).as_py() if rows.num_rows else 0
            res[p["id"]] = [rows.num_rows, int(s or 0), len(list(scan.plan_files()))]
        out[t["name"]] = res

elif reader == "duckdb":
    import duckdb
    con = duckdb.connect(config={"allow_unsigned_extensions": "true", "autoinstall_known_extensions": "false", "autoload_known_extensions": "false"})
    # DuckDB cannot download extensions here: load the ones the PyPI packages ship (avro first, iceberg needs it).
    for ext in ["avro", "iceberg"]:
        mod = importlib.import_module(f"duckdb_extension_{ext}")
        con.execute(f"LOAD '{glob.glob(os.path.join(os.path.dirname(mod.__file__), 'extensions', '*', ext + '.duckdb_extension'))[0]}'")
    con.execute("SET TimeZone = 'UTC'")
    for t in job["tables"]:
        res = {}
        for p in t["predicates"]:
            n, s = con.execute(f"SELECT count(*), coalesce(sum(k), 0)::BIGINT FROM iceberg_scan('{t['metadata']}') WHERE {p['text']}").fetchone()
            res[p["id"]] = [n, s]
        out[t["name"]] = res

elif reader == "spark":
    from pyspark.sql import SparkSession
    jars = ",".join(sorted(glob.glob(os.path.join(os.environ["COLDTIER_JARS_DIR"], "*.jar"))))
    builder = (SparkSession.builder.master("local[2]").appName("coldtier-readers")
               .config("spark.jars", jars)
               .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "2")
               .config("spark.driver.memory", "1g"))
    # Optionally coldtier's JDBC catalog in Postgres (job["catalog"]: name, uri, user, password, warehouse), for the
    # Iceberg procedures in job["before"] (run first; their result rows are returned under "_before").
    cat = job.get("catalog")
    if cat:
        prefix = f"spark.sql.catalog.{cat['name']}"
        for k, v in {"": "org.apache.iceberg.spark.SparkCatalog", ".catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog", ".uri": cat["uri"],
                     ".jdbc.user": cat["user"], ".jdbc.password": cat["password"], ".jdbc.schema-version": "V1", ".warehouse": cat["warehouse"]}.items():
            builder = builder.config(prefix + k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    out["_before"] = [[str(v) for v in r] for sql in job.get("before", []) for r in spark.sql(sql).collect()]
    for t in job["tables"]:
        if "ident" in t:
            spark.table(t["ident"]).createOrReplaceTempView("t")
        else:
            # A table loaded by its metadata file (Iceberg's StaticTableOperations): planned and filtered by Iceberg Java.
            spark.read.format("iceberg").load(t["metadata"]).createOrReplaceTempView("t")
        res = {}
        # One query per 40 predicates (a UNION ALL of filtered counts, each branch planned and pruned on its own):
        # a query per predicate spends most of its time in job scheduling.
        preds = t["predicates"]
        for at in range(0, len(preds), 40):
            branches = [f"SELECT {i} AS i, count(*) AS n, coalesce(sum(k), 0) AS s FROM t WHERE {p['text']}" for i, p in enumerate(preds[at:at + 40], at)]
            for r in spark.sql(" UNION ALL ".join(branches)).collect():
                res[preds[r["i"]]["id"]] = [r["n"], int(r["s"])]
        out[t["name"]] = res
    spark.stop()
else:
    sys.exit(f"unknown reader {reader}")

print(json.dumps(out))
