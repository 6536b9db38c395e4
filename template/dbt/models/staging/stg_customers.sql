-- One row per customer as the replication tool last landed it (soft-deleted
-- customers included, flagged by is_deleted).
with source as (
    select * from {{ source('raw', 'customers') }}
)

select
    cast(customer_id as bigint) as customer_id,
    cast(first_name as varchar) as first_name,
    cast(last_name as varchar) as last_name,
    cast(email as varchar) as email,
    cast(phone as varchar) as phone,
    cast(street as varchar) as street,
    cast(city as varchar) as city,
    cast(country_code as varchar) as country_code,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(_is_deleted as boolean) as is_deleted,
    cast(_batch_id as integer) as batch_id,
    cast(_loaded_at as timestamp) as loaded_at
from source
