-- One row per order line with its amounts and the order's customer and date,
-- soft-deleted lines included (is_deleted). Rebuilt in full on every run: a
-- table of a few million rows at most in this prototype.
with items as (
    select * from {{ ref('int_order_items_priced') }}
),

orders as (
    select * from {{ ref('stg_orders') }}
)

select
    cast(items.order_item_id as bigint) as order_item_id,
    cast(items.order_id as bigint) as order_id,
    cast(orders.customer_id as bigint) as customer_id,
    cast(items.product_id as bigint) as product_id,
    cast(orders.ordered_at as timestamp) as ordered_at,
    cast(orders.ordered_at as date) as order_date,
    cast(items.quantity as integer) as quantity,
    cast(items.unit_price as decimal(12, 2)) as unit_price,
    cast(items.discount_pct as decimal(5, 2)) as discount_pct,
    cast(items.gross_amount as decimal(12, 2)) as gross_amount,
    cast(items.discount_amount as decimal(12, 2)) as discount_amount,
    cast(items.line_amount as decimal(12, 2)) as line_amount,
    cast(items.is_deleted as boolean) as is_deleted,
    cast(items.batch_id as integer) as batch_id,
    cast(items.loaded_at as timestamp) as loaded_at
from items
inner join orders on items.order_id = orders.order_id
