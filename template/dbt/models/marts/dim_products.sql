-- One row per product, soft-deleted products included (is_deleted).
with products as (
    select * from {{ ref('stg_products') }}
)

select
    cast(product_id as bigint) as product_id,
    cast(sku as varchar) as sku,
    cast(product_name as varchar) as product_name,
    cast(category as varchar) as category,
    cast(unit_price as decimal(12, 2)) as unit_price,
    cast(created_at as timestamp) as created_at,
    cast(updated_at as timestamp) as updated_at,
    cast(is_deleted as boolean) as is_deleted,
    cast(loaded_at as timestamp) as loaded_at
from products
