-- One row per order that has at least one payment row (deleted or not):
-- what was paid on it, counting only payments that are not soft-deleted.
-- loaded_at is the newest load of any of its payments, deleted ones included,
-- so a deleted payment still marks its order as changed for fct_orders.
with payments as (
    select * from {{ ref('stg_payments') }}
)

select
    order_id,
    cast(sum(case when not is_deleted then 1 else 0 end) as integer) as payment_count,
    {{ money('sum(case when not is_deleted then amount else 0 end)') }} as paid_amount,
    min(case when not is_deleted then paid_at end) as first_paid_at,
    max(case when not is_deleted then paid_at end) as last_paid_at,
    max(loaded_at) as loaded_at
from payments
group by order_id
