-- Snowflake only: _audit.yml enables it on Snowflake targets.
select
    query_id,
    session_id,
    start_time as started_at,
    end_time as ended_at,
    user_name,
    role_name,
    warehouse_name,
    database_name,
    schema_name,
    query_type,
    execution_status,
    error_code,
    error_message,
    total_elapsed_time as elapsed_ms,
    bytes_scanned,
    rows_produced,
    query_tag,
    query_text
from {{ source('account_usage', 'query_history') }}
