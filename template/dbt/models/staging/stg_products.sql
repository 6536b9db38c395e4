-- One row per product as last landed (soft-deleted products included).
with source as (
    select * from {{ source('raw', 'products') }}
)

select
    cast(product_id as bigint) as product_id,
    cast(sku as varchar) as sku,
    cast(product_name as varchar) as product_name,
    cast(category as varchar) as category,
    cast(unit_price as decimal(12, 2)) as unit_price,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(_is_deleted as boolean) as is_deleted,
    cast(_batch_id as integer) as batch_id,
    cast(_loaded_at as timestamp) as loaded_at
from source
