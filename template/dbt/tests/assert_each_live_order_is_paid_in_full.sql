-- The shop takes exactly one payment per order that is neither cancelled nor
-- deleted, for exactly the order's amount, no earlier than the order; the
-- payment of a cancelled or deleted order is voided (soft-deleted). Any order
-- breaking that comes out as a row.
select
    order_id,
    status,
    is_deleted,
    order_amount,
    payment_count,
    paid_amount,
    ordered_at,
    paid_at
from {{ ref('fct_orders') }}
where
    case
        when is_deleted or status = 'cancelled' then payment_count != 0
        else
            payment_count != 1
            or paid_amount != order_amount
            or paid_at < ordered_at
    end
