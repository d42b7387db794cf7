"""The DuckDB warehouse: built from Parquet artifacts, read through read-only connections."""
