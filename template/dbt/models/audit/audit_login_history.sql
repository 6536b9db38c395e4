-- Snowflake only: _audit.yml enables it on Snowflake targets.
select
    event_id,
    event_timestamp as attempted_at,
    user_name,
    client_ip,
    reported_client_type as client_type,
    reported_client_version as client_version,
    first_authentication_factor,
    second_authentication_factor,
    error_code,
    error_message,
    is_success = 'YES' as is_success
from {{ source('account_usage', 'login_history') }}
where event_type = 'LOGIN'
