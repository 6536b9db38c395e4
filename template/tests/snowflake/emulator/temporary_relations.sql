{#-
    Test-only override (tests/snowflake/test_snowflake_emulator.py copies it into a scratch
    copy of dbt/; it never belongs in the dbt project). See README.md next to this file.

    dbt-snowflake stages rows in TEMPORARY relations named database.schema.<name>__dbt_tmp:
    a unit test's rows (table), the new rows of an incremental model (view) and those of a
    snapshot (table). fakesnow runs on DuckDB, which keeps temporary objects in its own `temp`
    catalog only and rejects the qualified name. The emulator gets the same relation as a
    permanent view or a transient table instead; the next run replaces it (`create or
    replace`).
-#}
{% macro snowflake__create_view_as_with_temp_flag(relation, sql, is_temporary=False) -%}
    {{ dbt.snowflake__create_view_as_with_temp_flag(relation, sql, False) }}
{%- endmacro %}

{% macro snowflake__create_table_temporary_sql(relation, compiled_code) -%}
    {{ dbt.snowflake__create_table_transient_sql(relation, compiled_code) }}
{%- endmacro %}
