# Prints, for each Parquet file given, what an independent reader (pyarrow) sees of its columns: the logical type,
# whether any row group has min/max statistics or a page index, and the encodings used. Used by write-paths.test.ts.
import json, sys
import pyarrow.parquet as pq

out = {}
for path in sys.argv[1:]:
    f = pq.ParquetFile(path)
    md = f.metadata
    cols = {}
    for j in range(md.num_columns):
        col = f.schema.column(j)
        chunks = [md.row_group(i).column(j) for i in range(md.num_row_groups)]
        cols[col.path] = {
            "physical": col.physical_type,
            "logical": str(col.logical_type),
            "length": col.length,
            "min_max": any(c.statistics is not None and c.statistics.has_min_max for c in chunks),
            "page_index": any(c.has_column_index for c in chunks),
            "encodings": sorted({e for c in chunks for e in c.encodings}),
        }
    out[path] = cols
print(json.dumps(out))
