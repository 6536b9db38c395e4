{#-
    Schema of a model, seed or snapshot.

    - no custom schema: the target's schema (profiles.yml);
    - a custom schema (`+schema:` in dbt_project.yml): that name verbatim,
      so every environment has the same staging, intermediate, marts and
      snapshots schemas (on Snowflake in the environment's own database);
    - with DBT_SCHEMA_PREFIX set (developers sharing one Snowflake dev
      database): `<prefix>_<custom schema>`, e.g. `jdoe_marts`.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = env_var('DBT_SCHEMA_PREFIX', '') | trim -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif prefix -%}
        {{ prefix }}_{{ custom_schema_name | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
