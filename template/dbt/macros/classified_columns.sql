{#-
    The column classification of the catalog (column meta `classification`:
    pii, confidential, internal, public), for the macros that act on it: the
    masking policies (masking_policies.sql) and the audit model
    audit_column_access (models/audit/).
-#}

{#- The names of the columns of one node (model, snapshot, seed or source)
    whose meta says classification: pii, in the order of its YAML. -#}
{% macro pii_columns(node) -%}
    {%- set found = [] -%}
    {%- for name, column in (node.get('columns') or {}).items() -%}
        {%- set meta = column.get('meta') or (column.get('config') or {}).get('meta') or {} -%}
        {%- if meta.get('classification') == 'pii' -%}
            {%- do found.append(column.get('name') or name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}

{#- Every classified column of the project as rows of a SQL `values` list:
    object_name (DATABASE.SCHEMA.TABLE, upper case, as Snowflake's
    ACCESS_HISTORY names objects), column_name (upper case), classification
    and owner. Read from dbt's graph at execution; while dbt parses (no graph
    yet) a single typed row of nulls stands in. -#}
{% macro classified_columns() -%}
    {%- set rows = [] -%}
    {%- if execute -%}
        {%- set nodes = graph.nodes.values() | list + graph.sources.values() | list -%}
        {%- for node in nodes
            if node.resource_type in ['model', 'seed', 'snapshot', 'source']
            and node.config.get('materialized') != 'ephemeral' -%}
            {%- set identifier = node.get('alias') or node.get('identifier') -%}
            {%- set object_name = [node.database, node.schema, identifier] | join('.') | upper -%}
            {%- for name, column in node.columns.items() -%}
                {%- set meta = column.get('meta') or {} -%}
                {%- if meta.get('classification') -%}
                    {%- set owner = meta.get('owner') or node.meta.get('owner') or '' -%}
                    {%- set row = [object_name, name | upper, meta.get('classification'), owner] -%}
                    {%- set quoted = [] -%}
                    {%- for value in row -%}
                        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
                    {%- endfor -%}
                    {%- do rows.append('(' ~ quoted | join(', ') ~ ')') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if rows -%}
        select object_name, column_name, classification, owner
        from (values {{ rows | join(', ') }})
            as classified (object_name, column_name, classification, owner)
    {%- else -%}
        select
            cast(null as varchar) as object_name,
            cast(null as varchar) as column_name,
            cast(null as varchar) as classification,
            cast(null as varchar) as owner
    {%- endif -%}
{%- endmacro %}
