"""The end-to-end run and the stage wrappers shared by ``qingfeng run`` and the Airflow DAGs.

Kept empty so that importing ``qingfeng.pipeline.<module>`` from a DAG file stays light.
"""
