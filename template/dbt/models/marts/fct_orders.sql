{{
    config(
        materialized='incremental',
        unique_key='order_id',
        incremental_strategy='merge',
        on_schema_change='append_new_columns'
    )
}}

-- The incremental branch reads these; dbt must know them when it parses:
-- depends_on: {{ ref('stg_order_items') }}
-- depends_on: {{ ref('stg_payments') }}

-- One row per order, soft-deleted orders included (is_deleted), with its line
-- totals and what was paid on it.
--
-- Incremental: after the first run, only orders whose order row, lines or
-- payments landed after the newest loaded_at already in this table are
-- rebuilt, and merged on order_id: new orders are inserted, changed and
-- soft-deleted ones updated in place. `merge` works the same on DuckDB and
-- Snowflake; `dbt build --full-refresh` rebuilds the table from scratch.
with

{% if is_incremental() %}
    high_water_mark as (
        select max(loaded_at) as loaded_at from {{ this }}
    ),

    changed_orders as (
        select order_id from {{ ref('stg_orders') }}
        where loaded_at > (select hwm.loaded_at from high_water_mark as hwm)
        union all
        select order_id from {{ ref('stg_order_items') }}
        where loaded_at > (select hwm.loaded_at from high_water_mark as hwm)
        union all
        select order_id from {{ ref('stg_payments') }}
        where loaded_at > (select hwm.loaded_at from high_water_mark as hwm)
    ),
{% endif %}

orders as (
    select * from {{ ref('stg_orders') }}
    {% if is_incremental() %}
        where order_id in (select changed.order_id from changed_orders as changed)
    {% endif %}
),

line_totals as (
    select
        order_id,
        sum(case when not is_deleted then 1 else 0 end) as item_count,
        sum(case when not is_deleted then quantity else 0 end) as total_quantity,
        sum(case when not is_deleted then gross_amount else 0 end) as gross_amount,
        sum(case when not is_deleted then discount_amount else 0 end) as discount_amount,
        sum(case when not is_deleted then line_amount else 0 end) as order_amount,
        max(loaded_at) as loaded_at
    from {{ ref('int_order_items_priced') }}
    group by order_id
),

payments as (
    select * from {{ ref('int_order_payments') }}
),

statuses as (
    select * from {{ ref('order_statuses') }}
)

select
    cast(orders.order_id as bigint) as order_id,
    cast(orders.customer_id as bigint) as customer_id,
    cast(orders.ordered_at as timestamp) as ordered_at,
    cast(orders.ordered_at as date) as order_date,
    cast(orders.status as varchar) as status,
    cast(statuses.is_final as boolean) as is_final_status,
    cast(orders.shipping_country_code as varchar) as shipping_country_code,
    cast(coalesce(line_totals.item_count, 0) as integer) as item_count,
    cast(coalesce(line_totals.total_quantity, 0) as integer) as total_quantity,
    {{ money('coalesce(line_totals.gross_amount, 0)') }} as gross_amount,
    {{ money('coalesce(line_totals.discount_amount, 0)') }} as discount_amount,
    {{ money('coalesce(line_totals.order_amount, 0)') }} as order_amount,
    cast(coalesce(payments.payment_count, 0) as integer) as payment_count,
    {{ money('coalesce(payments.paid_amount, 0)') }} as paid_amount,
    cast(payments.last_paid_at as timestamp) as paid_at,
    cast(orders.updated_at as timestamp) as updated_at,
    cast(orders.is_deleted as boolean) as is_deleted,
    cast(orders.batch_id as integer) as batch_id,
    cast(
        greatest(
            orders.loaded_at,
            coalesce(line_totals.loaded_at, orders.loaded_at),
            coalesce(payments.loaded_at, orders.loaded_at)
        ) as timestamp
    ) as loaded_at
from orders
left join line_totals on orders.order_id = line_totals.order_id
left join payments on orders.order_id = payments.order_id
left join statuses on orders.status = statuses.status
