"""The benchmark harness: generated districts at three scales, stage timings, memory, DuckDB floor."""
