"""The benchmarks: the pipeline harness (generated districts at three scales, stage timings, memory,
DuckDB floor; ``qingfeng bench``) and the UI's page renders on a large register (``qingfeng bench-pages``)."""
