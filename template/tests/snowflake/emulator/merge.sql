{#-
    Test-only override (tests/snowflake/test_snowflake_emulator.py copies it into a scratch
    copy of dbt/; it never belongs in the dbt project). See README.md next to this file.

    The MERGE statements of an incremental model (unique_key set) and of a snapshot, as
    dbt-snowflake writes them, with two changes for fakesnow:
    - the columns of `when not matched then insert (...) values (...)` are qualified with
      DBT_INTERNAL_SOURCE: fakesnow resolves them against both tables and fails with
      "Ambiguous reference to column name";
    - no `begin; ... commit;` around the MERGE: fakesnow starts a MERGE by creating a helper
      table, and its bookkeeping of that table writes two DuckDB databases (the current one
      and fakesnow's global catalog), which DuckDB refuses inside one transaction. Without
      the wrapper the MERGE runs in autocommit, still as one statement.
-#}
{% macro emulator_qualify_insert_values(dml) -%}
    {%- set head, keyword, tail = dml.rpartition('values') -%}
    {{ return(head ~ keyword ~ modules.re.sub('"([^"]+)"', 'DBT_INTERNAL_SOURCE."\\1"', tail)) }}
{%- endmacro %}

{% macro snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {%- if unique_key is none -%}
        {{ return(dbt.snowflake__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates)) }}
    {%- endif -%}
    {%- set dml = dbt.default__get_merge_sql(target, source_sql, unique_key, dest_columns, incremental_predicates) -%}
    {{ return(emulator_qualify_insert_values(dml)) }}
{%- endmacro %}

{% macro snowflake__snapshot_merge_sql(target, source, insert_cols) -%}
    {{ return(emulator_qualify_insert_values(dbt.default__snapshot_merge_sql(target, source, insert_cols))) }}
{%- endmacro %}
