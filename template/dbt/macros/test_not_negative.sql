{#-
    Generic test `not_negative`: fails on every row where the column is below
    zero (nulls pass; combine with not_null where a value is required).

        data_tests:
          - not_negative
-#}
{% macro test_not_negative(model, column_name) -%}
    select {{ column_name }} as failing_value
    from {{ model }}
    where {{ column_name }} < 0
{%- endmacro %}
