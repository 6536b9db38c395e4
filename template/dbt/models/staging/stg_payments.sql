-- One row per payment (soft-deleted payments included).
with source as (
    select * from {{ source('raw', 'payments') }}
)

select
    cast(payment_id as bigint) as payment_id,
    cast(order_id as bigint) as order_id,
    cast(payment_method as varchar) as payment_method,
    cast(amount as decimal(12, 2)) as amount,
    cast(paid_at as timestamp) as paid_at,
    cast(updated_at as timestamp) as updated_at,
    cast(_is_deleted as boolean) as is_deleted,
    cast(_batch_id as integer) as batch_id,
    cast(_loaded_at as timestamp) as loaded_at
from source
