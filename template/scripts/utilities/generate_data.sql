-- The SQL of the loads of generate_data.py, which reads this file: blocks of statements, each
-- started by a `-- @name` line and filled in with Python's str.format ({seed}, {batch},
-- {new_orders} ...; a literal brace is doubled), so it is not dbt SQL (sqlfluff lints dbt/ only).
-- An initial load runs macros, customers, products, initial and orders; an increment the same
-- with increment in place of initial.

-- @macros: hash-based pseudo-random helpers, the same (seed, batch, salt, id) giving the same
-- value: g_pick(salt, id, n) is an integer in [0, n), g_unit(salt, id) a number in [0, 1).
CREATE OR REPLACE TEMP MACRO g_hash(salt, id) AS
    hash({seed}::UBIGINT, {batch}::INTEGER, salt, id::BIGINT);
CREATE OR REPLACE TEMP MACRO g_pick(salt, id, n) AS
    (g_hash(salt, id) % greatest(1, n)::UBIGINT)::BIGINT;
CREATE OR REPLACE TEMP MACRO g_unit(salt, id) AS (g_hash(salt, id) % 1000000)::DOUBLE / 1000000;
-- n new ids from first_id, the i-th at a time tm in the i-th of n slices of [start, end):
-- ids grow with time.
CREATE OR REPLACE TEMP MACRO g_spread(first_id, n, start, end_, salt) AS TABLE
    SELECT first_id + range AS id, range + 1 AS i, start + to_seconds(floor((range
        + g_unit(salt, range + 1)) * date_diff('second', start, end_) / n)::BIGINT) AS tm
    FROM range(n);
CREATE OR REPLACE TEMP MACRO g_street(salt, id) AS (1 + g_pick(salt || '_no', id, 240))::VARCHAR
    || ' ' || {street}[1 + g_pick(salt || '_name', id, len({street}))]
    || ' ' || {suffix}[1 + g_pick(salt || '_suffix', id, len({suffix}))];

-- @customers: the new customers of {new_customers}, a g_spread()
INSERT INTO raw.customers
WITH c AS (
    SELECT id AS customer_id, tm AS created_at, g_pick('phone', id, 1000000) AS ph,
        {first_name}[1 + g_pick('first_name', id, len({first_name}))] AS first_name,
        {last_name}[1 + g_pick('last_name', id, len({last_name}))] AS last_name,
        {country_buckets}[1 + g_pick('country', id, 100)] AS ci
    FROM {new_customers})
SELECT customer_id, first_name, last_name, lower(first_name || '.' || last_name || '.'
        || customer_id || '@' || CASE WHEN g_pick('domain', customer_id, 4) = 0
        THEN 'example.org' ELSE 'example.com' END),
    '+1-555-01' || lpad((ph % 100)::VARCHAR, 2, '0') || '-' || lpad((ph // 100)::VARCHAR, 4, '0'),
    g_street('street', customer_id), {city}[1 + ci * 5 + g_pick('city', customer_id, 5)],
    {country}[1 + ci], created_at, created_at, false, {batch}, {loaded_at}
FROM c ORDER BY customer_id;

-- @products: the new products of {new_products}
INSERT INTO raw.products
SELECT id, {sku}[1 + cat] || '-' || lpad(id::VARCHAR, 6, '0'),
    {adjective}[1 + g_pick('adjective', id, len({adjective}))] || ' '
        || {noun}[1 + cat * 8 + g_pick('noun', id, 8)],
    {category}[1 + cat],
    (({low}[1 + cat] + floor(({high}[1 + cat] - {low}[1 + cat]) * r * r)::BIGINT) * 100 + 99)
        * 0.01,
    tm, tm, false, {batch}, {loaded_at}
FROM (SELECT *, g_pick('category', id, len({category})) AS cat, g_unit('price', id) AS r
    FROM {new_products})
ORDER BY id;

-- @initial: the orders of 2025. An order picks one of the customers signed up before it; its
-- status follows its age on 2026-01-01: recent orders are still open.
CREATE OR REPLACE TEMP TABLE _new_orders AS
WITH aged AS (
    SELECT id AS order_id, tm AS ordered_at, date_diff('second', tm, {day}) / 3600.0 AS age_h,
        g_unit('status', id) AS r, 1 + g_pick('customer', id, floor(date_diff('second',
            {customers_from}, tm) * {n_customers}::HUGEINT / date_diff('second',
            {customers_from}, {day}))::BIGINT) AS customer_id
    FROM {new_orders}),
statused AS (
    SELECT *, CASE
        WHEN r < 0.04 THEN 'cancelled'
        WHEN age_h < 2 THEN CASE WHEN r < 0.5 THEN 'placed' ELSE 'paid' END
        WHEN age_h < 24 THEN 'paid'
        WHEN age_h < 72 THEN CASE WHEN r < 0.3 THEN 'paid' ELSE 'shipped' END
        WHEN age_h < 168 THEN CASE WHEN r < 0.55 THEN 'shipped' ELSE 'delivered' END
        WHEN age_h >= 600 AND r >= 0.97 THEN 'returned'
        ELSE 'delivered' END AS status
    FROM aged)
SELECT order_id, customer_id, ordered_at, status, least(ordered_at + to_seconds(CASE status
        WHEN 'placed' THEN 0
        WHEN 'paid' THEN 300 + g_pick('status_after', order_id, 3300)
        WHEN 'shipped' THEN 86400 + g_pick('status_after', order_id, 86400)
        WHEN 'delivered' THEN 259200 + g_pick('status_after', order_id, 345600)
        WHEN 'cancelled' THEN 600 + g_pick('status_after', order_id, 85800)
        ELSE 864000 + g_pick('status_after', order_id, 1296000) END), {cap}) AS updated_at
FROM statused;

-- @increment: new customers and products came in the morning (above). Customers change their
-- email, their address (street and city, same country) or both.
CREATE OR REPLACE TEMP TABLE _chg_customers AS
WITH c AS (
    SELECT *, g_unit('customer_change', customer_id) AS r, list_position({city}, city) - 1 AS g,
        g_street('moved_street', customer_id) AS new_street,
        lower(CASE g_pick('email_format', customer_id, 4)
            WHEN 0 THEN first_name || '.' || last_name || '.' || customer_id
            WHEN 1 THEN first_name || '_' || last_name || customer_id
            WHEN 2 THEN left(first_name, 1) || '.' || last_name || '.' || customer_id
            ELSE last_name || '.' || first_name || '.' || customer_id
        END || '@' || CASE WHEN g_pick('email_domain', customer_id, 2) = 0
            THEN 'example.org' ELSE 'example.com' END) AS new_email
    FROM raw.customers WHERE customer_id <= {top_customers} AND NOT _is_deleted
    ORDER BY g_hash('customer_update', customer_id), customer_id LIMIT {customer_updates})
SELECT customer_id,
    CASE WHEN r >= 0.4 AND r < 0.8 THEN email WHEN new_email <> email THEN new_email
        ELSE lower(first_name || '.' || last_name || '.' || customer_id || '.{batch}@example.org')
    END AS email,
    CASE WHEN r < 0.4 THEN street WHEN new_street <> street THEN new_street
        ELSE '1' || new_street END AS street,
    CASE WHEN r < 0.4 THEN city ELSE {city}[1 + (g // 5) * 5
        + (g % 5 + 1 + g_pick('city_move', customer_id, 4)) % 5] END AS city,
    r < 0.4 OR r >= 0.8 AS email_changed, r >= 0.4 AS address_changed,
    {day} + to_seconds(g_pick('customer_updated_at', customer_id, 86400)) AS updated_at
FROM c;
UPDATE raw.customers AS t SET email = x.email, street = x.street, city = x.city,
    updated_at = x.updated_at, {stamp}
FROM _chg_customers AS x WHERE t.customer_id = x.customer_id;
-- Some prices move by 5-20% up or down (and keep ending in .99).
CREATE OR REPLACE TEMP TABLE _chg_products AS
SELECT product_id, old_price, CAST(CASE WHEN candidate = old_price THEN old_price + 1
        ELSE candidate END AS DECIMAL(12, 2)) AS unit_price,
    {day} + to_seconds(g_pick('product_updated_at', product_id, 86400)) AS updated_at
FROM (
    SELECT product_id, unit_price AS old_price,
        ((greatest(0, (unit_price * 100)::BIGINT * (100 + (CASE WHEN g_pick('price_up',
            product_id, 3) = 0 THEN -1 ELSE 1 END) * (5 + g_pick('price_pct', product_id, 16)))
            // 10000)) * 100 + 99) * 0.01 AS candidate
    FROM raw.products WHERE product_id <= {top_products} AND NOT _is_deleted
    ORDER BY g_hash('price_update', product_id), product_id LIMIT {price_updates});
UPDATE raw.products AS t SET unit_price = x.unit_price, updated_at = x.updated_at, {stamp}
FROM _chg_products AS x WHERE t.product_id = x.product_id;
-- Open orders move one step along their lifecycle; recent deliveries may come back.
CREATE OR REPLACE TEMP TABLE _chg_orders AS
SELECT * FROM (
    SELECT order_id, status AS old_status, CASE status
        WHEN 'placed' THEN CASE WHEN r < 0.08 THEN 'cancelled' WHEN r < 0.9 THEN 'paid' END
        WHEN 'paid' THEN CASE WHEN r < 0.03 THEN 'cancelled' WHEN r < 0.85 THEN 'shipped' END
        WHEN 'shipped' THEN CASE WHEN r < 0.8 THEN 'delivered' END
        WHEN 'delivered' THEN CASE WHEN r < 0.02 THEN 'returned' END END AS status,
        {day} + to_seconds(g_pick('order_updated_at', order_id, 86400)) AS updated_at
    FROM (SELECT *, g_unit('transition', order_id) AS r FROM raw.orders
        WHERE NOT _is_deleted AND order_id <= {top_orders} AND (status IN ('placed', 'paid',
            'shipped') OR (status = 'delivered' AND ordered_at >= {day} - INTERVAL 30 DAY))))
WHERE status IS NOT NULL;
UPDATE raw.orders AS t SET status = x.status, updated_at = x.updated_at, {stamp}
FROM _chg_orders AS x WHERE t.order_id = x.order_id;
-- A few orders are deleted at the source (test or fraudulent orders): the replication keeps
-- them, flagged, with their items and payments. The payment of a deleted or newly cancelled
-- order is voided too, so a live payment exists exactly for each live, not cancelled order.
CREATE OR REPLACE TEMP TABLE _del_orders AS
SELECT order_id, {day} + to_seconds(g_pick('deleted_at', order_id, 86400)) AS updated_at
FROM raw.orders WHERE NOT _is_deleted AND order_id <= {top_orders}
    AND order_id NOT IN (SELECT order_id FROM _chg_orders)
ORDER BY g_hash('delete', order_id), order_id LIMIT {deleted_orders};
CREATE OR REPLACE TEMP TABLE _del_items AS
SELECT i.order_item_id, x.updated_at FROM raw.order_items AS i
JOIN _del_orders AS x USING (order_id) WHERE NOT i._is_deleted;
CREATE OR REPLACE TEMP TABLE _del_payments AS
SELECT p.payment_id, x.updated_at, x.reason FROM raw.payments AS p JOIN (
    SELECT order_id, updated_at, 'order_deleted' AS reason FROM _del_orders UNION ALL
    SELECT order_id, updated_at, 'order_cancelled' FROM _chg_orders WHERE status = 'cancelled'
) AS x USING (order_id) WHERE NOT p._is_deleted;
UPDATE raw.orders AS t SET _is_deleted = true, updated_at = x.updated_at, {stamp}
FROM _del_orders AS x WHERE t.order_id = x.order_id;
UPDATE raw.order_items AS t SET _is_deleted = true, updated_at = x.updated_at, {stamp}
FROM _del_items AS x WHERE t.order_item_id = x.order_item_id;
UPDATE raw.payments AS t SET _is_deleted = true, updated_at = x.updated_at, {stamp}
FROM _del_payments AS x WHERE t.payment_id = x.payment_id;
-- New orders come in the afternoon, from any customer (today's new ones too), mostly still
-- placed or paid.
CREATE OR REPLACE TEMP TABLE _new_orders AS
SELECT id AS order_id, 1 + g_pick('customer', id, {n_customers}) AS customer_id, tm AS ordered_at,
    CASE WHEN r < 0.03 THEN 'cancelled' WHEN r < 0.55 THEN 'placed' ELSE 'paid' END AS status,
    least(tm + to_seconds(CASE WHEN r < 0.55 AND r >= 0.03 THEN 0
        ELSE 300 + g_pick('status_after', id, 3300) END), {cap}) AS updated_at
FROM (SELECT *, g_unit('status', i) AS r FROM {new_orders});

-- @orders: _new_orders into raw.orders, with their items (at the products' current prices)
-- and a payment for each order that is not cancelled.
INSERT INTO raw.orders
SELECT o.order_id, o.customer_id, o.ordered_at, o.status,
    CASE WHEN g_unit('ship_abroad', o.order_id) < 0.9 THEN c.country_code
        ELSE {country}[1 + g_pick('ship_country', o.order_id, len({country}))] END,
    o.updated_at, false, {batch}, {loaded_at}
FROM _new_orders AS o JOIN raw.customers AS c USING (customer_id) ORDER BY o.order_id;
INSERT INTO raw.order_items
WITH lines AS (
    SELECT o.order_id, o.ordered_at, l.line, o.order_id * 4 + l.line AS li,
        1 + (g_pick('product', o.order_id, {n_products}) + (l.line - 1)
            * (1 + g_pick('product_step', o.order_id, {n_products} // 4))) % {n_products}
            AS product_id
    FROM _new_orders AS o
    JOIN range(1, 5) AS l(line) ON l.line <= 1 + g_pick('lines', o.order_id, 4))
SELECT {top_order_items} + row_number() OVER (ORDER BY lines.order_id, lines.line),
    lines.order_id, lines.product_id, CASE WHEN g_unit('quantity', li) < 0.6 THEN 1
        WHEN g_unit('quantity', li) < 0.85 THEN 2 WHEN g_unit('quantity', li) < 0.95 THEN 3
        ELSE 4 END,
    p.unit_price, CASE WHEN g_unit('discount', li) < 0.7 THEN 0
        ELSE 5 * (1 + g_pick('discount_pct', li, 4)) END,
    lines.ordered_at, false, {batch}, {loaded_at}
FROM lines JOIN raw.products AS p USING (product_id) ORDER BY 1;
INSERT INTO raw.payments
WITH amounts AS (
    SELECT order_id, sum(round(quantity * unit_price * (1 - discount_pct * 0.01), 2)) AS amount
    FROM raw.order_items WHERE order_id IN (SELECT order_id FROM _new_orders) GROUP BY order_id),
methods AS (
    SELECT order_id, ordered_at, amount, CASE WHEN r < 0.55 THEN 'card' WHEN r < 0.8
        THEN 'paypal' WHEN r < 0.92 THEN 'bank_transfer' ELSE 'gift_card' END AS method
    FROM (SELECT *, g_unit('payment_method', order_id) AS r FROM _new_orders)
    JOIN amounts USING (order_id) WHERE status <> 'cancelled')
SELECT {top_payments} + row_number() OVER (ORDER BY order_id), order_id, method, amount,
    least(ordered_at + to_seconds(CASE WHEN method = 'bank_transfer'
        THEN 600 + g_pick('paid_after', order_id, 6600)
        ELSE 5 + g_pick('paid_after', order_id, 295) END), {cap}) AS paid_at,
    paid_at, false, {batch}, {loaded_at}
FROM methods ORDER BY order_id;
