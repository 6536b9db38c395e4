-- An order's amount in fct_orders (built incrementally) equals the sum of its
-- lines in fct_order_items (rebuilt in full) that are not soft-deleted, and
-- its item count is the number of those lines: the incremental run did not
-- leave stale totals behind.
with lines as (
    select
        order_id,
        count(*) as item_count,
        sum(line_amount) as order_amount
    from {{ ref('fct_order_items') }}
    where not is_deleted
    group by order_id
)

select
    orders.order_id,
    orders.item_count,
    lines.item_count as lines_item_count,
    orders.order_amount,
    lines.order_amount as lines_order_amount
from {{ ref('fct_orders') }} as orders
left join lines on orders.order_id = lines.order_id
where
    orders.item_count != coalesce(lines.item_count, 0)
    or orders.order_amount != coalesce(lines.order_amount, 0)
