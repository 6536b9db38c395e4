-- Snowflake only: _audit.yml enables it on Snowflake targets.
with

access_history as (
    select
        query_id,
        query_start_time,
        user_name,
        base_objects_accessed
    from {{ source('account_usage', 'access_history') }}
),

-- One row per query, table and column read (Snowflake's FLATTEN of the JSON arrays).
columns_read as (
    select
        access_history.query_id,
        access_history.query_start_time as queried_at,
        access_history.user_name,
        accessed_object.value['objectDomain']::varchar as object_domain,
        accessed_object.value['objectName']::varchar as object_name,
        accessed_column.value['columnName']::varchar as column_name
    from access_history,
        lateral flatten(input => access_history.base_objects_accessed) as accessed_object,
        lateral flatten(input => accessed_object.value['columns']) as accessed_column
),

-- The catalog's classification of every column (macros/classified_columns.sql).
classified as (
    {{ classified_columns() }}
)

select
    columns_read.query_id,
    columns_read.queried_at,
    columns_read.user_name,
    columns_read.object_domain,
    columns_read.object_name,
    columns_read.column_name,
    classified.classification,
    classified.owner as column_owner
from columns_read
left join classified
    on
        columns_read.object_name = classified.object_name
        and columns_read.column_name = classified.column_name
