-- One row per customer, soft-deleted customers included (is_deleted), with
-- the country's name and region from the country_codes seed and the
-- customer's order history (orders that are not soft-deleted). The history of
-- each customer's attributes is in the snapshot snap_customers.
with customers as (
    select * from {{ ref('stg_customers') }}
),

countries as (
    select * from {{ ref('country_codes') }}
),

order_history as (
    select
        customer_id,
        count(*) as order_count,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from {{ ref('stg_orders') }}
    where not is_deleted
    group by customer_id
)

select
    cast(customers.customer_id as bigint) as customer_id,
    cast(customers.first_name as varchar) as first_name,
    cast(customers.last_name as varchar) as last_name,
    cast(customers.email as varchar) as email,
    cast(customers.phone as varchar) as phone,
    cast(customers.street as varchar) as street,
    cast(customers.city as varchar) as city,
    cast(customers.country_code as varchar) as country_code,
    cast(countries.country_name as varchar) as country_name,
    cast(countries.region as varchar) as region,
    cast(coalesce(order_history.order_count, 0) as integer) as order_count,
    cast(order_history.first_ordered_at as timestamp) as first_ordered_at,
    cast(order_history.last_ordered_at as timestamp) as last_ordered_at,
    cast(customers.created_at as timestamp) as created_at,
    cast(customers.updated_at as timestamp) as updated_at,
    cast(customers.is_deleted as boolean) as is_deleted,
    cast(customers.loaded_at as timestamp) as loaded_at
from customers
left join countries on customers.country_code = countries.country_code
left join order_history on customers.customer_id = order_history.customer_id
