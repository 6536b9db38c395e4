-- One row per order in its current status (soft-deleted orders included).
with source as (
    select * from {{ source('raw', 'orders') }}
)

select
    cast(order_id as bigint) as order_id,
    cast(customer_id as bigint) as customer_id,
    cast(ordered_at as timestamp) as ordered_at,
    cast(status as varchar) as status,
    cast(shipping_country_code as varchar) as shipping_country_code,
    cast(updated_at as timestamp) as updated_at,
    cast(_is_deleted as boolean) as is_deleted,
    cast(_batch_id as integer) as batch_id,
    cast(_loaded_at as timestamp) as loaded_at
from source
