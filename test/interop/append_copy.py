# Appends a copy of one of a table's data files behind coldtier's back, as another writer of the catalog would:
#   append_copy.py CATALOG SQLALCHEMY_URL NAMESPACE TABLE SRC_PATH DST_PATH
# copies SRC_PATH (a local data file of the table) to DST_PATH and commits it with PyIceberg's SqlCatalog
# (the JDBC catalog layout coldtier keeps in Postgres) through Table.add_files. Prints the new snapshot id.
import shutil, sys
from pyiceberg.catalog.sql import SqlCatalog

catalog, uri, namespace, table, src, dst = sys.argv[1:7]
shutil.copyfile(src, dst)
tbl = SqlCatalog(catalog, uri=uri).load_table((namespace, table))
tbl.add_files([f"file://{dst}"])
print(tbl.refresh().current_snapshot().snapshot_id)
