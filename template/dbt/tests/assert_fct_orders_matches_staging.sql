-- The incremental fct_orders holds exactly the orders staging holds, each in
-- its current status and deletion state: a missed update, a missed soft
-- delete or a lost or duplicated order shows up here as a row.
with staged as (
    select
        order_id,
        status,
        is_deleted
    from {{ ref('stg_orders') }}
),

built as (
    select
        order_id,
        status,
        is_deleted
    from {{ ref('fct_orders') }}
)

select
    staged.order_id as staged_order_id,
    built.order_id as built_order_id,
    staged.status as staged_status,
    built.status as built_status,
    staged.is_deleted as staged_is_deleted,
    built.is_deleted as built_is_deleted
from staged
full outer join built on staged.order_id = built.order_id
where
    staged.order_id is null
    or built.order_id is null
    or staged.status != built.status
    or staged.is_deleted != built.is_deleted
