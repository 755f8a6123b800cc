"""The data core: versioned, validated analytical tables on DuckDB over Parquet."""
