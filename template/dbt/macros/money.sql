{#-
    Round a money expression to cents and type it as the marts' money type,
    decimal(12, 2), the same on DuckDB and Snowflake.
-#}
{% macro money(expression) -%}
    cast(round({{ expression }}, 2) as decimal(12, 2))
{%- endmacro %}
