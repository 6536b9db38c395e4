-- One row per order line with its amounts, as the shop charges them, in
-- decimal(12, 2):
--   gross_amount    = quantity * unit_price
--   line_amount     = gross_amount * (1 - discount_pct / 100), rounded to cents
--                     (half away from zero, on DuckDB and Snowflake alike)
--   discount_amount = gross_amount - line_amount
-- Soft-deleted lines keep their amounts and their is_deleted flag; the marts
-- leave them out of order totals.
with order_items as (
    select * from {{ ref('stg_order_items') }}
),

priced as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        discount_pct,
        {{ money('quantity * unit_price') }} as gross_amount,
        {{ money('quantity * unit_price * (1 - discount_pct * 0.01)') }} as line_amount,
        is_deleted,
        batch_id,
        loaded_at
    from order_items
)

select
    order_item_id,
    order_id,
    product_id,
    quantity,
    unit_price,
    discount_pct,
    gross_amount,
    {{ money('gross_amount - line_amount') }} as discount_amount,
    line_amount,
    is_deleted,
    batch_id,
    loaded_at
from priced
