"""清风 qingfeng: data-lake ETL and big-data supervision pipeline."""

__version__ = "0.1.0"
