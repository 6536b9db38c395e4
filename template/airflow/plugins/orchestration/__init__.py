"""What the DAGs of this project share: settings, the landing operator, the failure alert.

Airflow puts ``airflow/plugins`` on ``sys.path``, so a DAG imports this as ``orchestration``.
"""
