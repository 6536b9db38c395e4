-- One row per order line (soft-deleted lines included).
with source as (
    select * from {{ source('raw', 'order_items') }}
)

select
    cast(order_item_id as bigint) as order_item_id,
    cast(order_id as bigint) as order_id,
    cast(product_id as bigint) as product_id,
    cast(quantity as integer) as quantity,
    cast(unit_price as decimal(12, 2)) as unit_price,
    cast(discount_pct as decimal(5, 2)) as discount_pct,
    cast(updated_at as timestamp) as updated_at,
    cast(_is_deleted as boolean) as is_deleted,
    cast(_batch_id as integer) as batch_id,
    cast(_loaded_at as timestamp) as loaded_at
from source
