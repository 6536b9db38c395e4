{#-
    Snowflake masking policies on every pii column (column meta
    classification: pii) of the models and snapshots, as
    security/data_classification/policy.yml says pii is masked.

    A session that holds the reader role (var `pii_reader_role`) as primary
    or secondary role, directly or inherited, sees the value: the
    transformer and loader roles are granted it, and so are people with a
    documented need. Every other session sees a mask: an e-mail address keeps
    its domain (***@example.com), a phone number its last two digits (***42),
    other text becomes ***, other types null. A column's meta `mask` (email,
    last_two_digits, full) overrides the choice its name makes. There is one
    policy per schema and column name, `<database>.<schema>.pii_mask_<column>`,
    next to the tables and views it protects.

    - apply_masking_policies(): the post-hook of every model and snapshot
      (dbt_project.yml): right after dbt builds a node with pii columns it
      creates the missing policies, brings their body up to date and sets
      them on the columns (dbt's create-or-replace drops them with the old
      table). Called as `dbt run-operation apply_masking_policies` it does
      the same for every node of the project. It runs SQL only on a
      Snowflake target with var `apply_masking_policies` true; anywhere else
      it only logs.
    - print_masking_policies(): `dbt run-operation print_masking_policies`
      prints that SQL for every pii column, on any target, and runs nothing.

    Sources are left out: RAW is read only by the loader and dbt, both readers.
-#}

{#- The Snowflake type of a policy's argument and result for a column's
    data_type (none: the column is text, as every pii column here is). -#}
{% macro masking_policy_type(data_type) -%}
    {%- set base = (data_type or 'varchar') | lower | trim -%}
    {%- set base = base.split('(')[0] | trim -%}
    {%- set families = {
        'varchar': 'string', 'text': 'string', 'string': 'string', 'char': 'string',
        'character': 'string', 'character varying': 'string', 'nvarchar': 'string',
        'bpchar': 'string',
        'decimal': 'number', 'numeric': 'number', 'number': 'number', 'int': 'number',
        'integer': 'number', 'bigint': 'number', 'smallint': 'number', 'tinyint': 'number',
        'float': 'float', 'double': 'float', 'double precision': 'float', 'real': 'float',
        'timestamp': 'timestamp_ntz', 'datetime': 'timestamp_ntz',
        'timestamptz': 'timestamp_tz', 'timestamp with time zone': 'timestamp_tz',
    } -%}
    {{ return(families.get(base, base)) }}
{%- endmacro %}

{#- How a pii column is masked: meta `mask`, else by its name. -#}
{% macro masking_policy_mask(column_name, column) -%}
    {%- set meta = column.get('meta') or (column.get('config') or {}).get('meta') or {} -%}
    {%- if meta.get('mask') -%}
        {{ return(meta.get('mask')) }}
    {%- elif 'email' in column_name | lower -%}
        {{ return('email') }}
    {%- elif 'phone' in column_name | lower -%}
        {{ return('last_two_digits') }}
    {%- endif -%}
    {{ return('full') }}
{%- endmacro %}

{#- The policy body: clear for the reader role, masked for everyone else. -#}
{% macro masking_policy_body(policy_type, mask) -%}
    {%- set reader = var('pii_reader_role') | upper -%}
    {%- if policy_type != 'string' -%}
        {%- set masked = 'null' -%}
    {%- elif mask == 'email' -%}
        {%- set masked = "regexp_replace(val, '^[^@]*', '***')" -%}
    {%- elif mask == 'last_two_digits' -%}
        {%- set masked = "'***' || right(regexp_replace(val, '[^0-9]', ''), 2)" -%}
    {%- elif mask == 'full' -%}
        {%- set masked = "'***'" -%}
    {%- else -%}
        {%- do exceptions.raise_compiler_error(
            "meta mask '" ~ mask ~ "' is not one of email, last_two_digits, full") -%}
    {%- endif -%}
    case when is_role_in_session('{{ reader }}') then val else {{ masked }} end
{%- endmacro %}

{#- The SQL statements that mask the pii columns of the given nodes, for
    Snowflake: per policy a CREATE MASKING POLICY IF NOT EXISTS and an ALTER
    MASKING POLICY ... SET BODY (so a changed reader role reaches existing
    policies), per pii column an ALTER TABLE|VIEW ... SET MASKING POLICY. -#}
{% macro masking_policy_statements(nodes) -%}
    {%- set statements = [] -%}
    {%- set policies = {} -%}
    {%- for node in nodes if node.config.get('materialized') != 'ephemeral' -%}
        {%- set kind = {'view': 'view', 'materialized_view': 'materialized view'}.get(
            node.config.get('materialized'), 'table') -%}
        {%- set relation = [node.database, node.schema, node.alias] | join('.') -%}
        {%- for column in pii_columns(node) -%}
            {%- set policy_type = masking_policy_type(node.columns[column].get('data_type')) -%}
            {%- set mask = masking_policy_mask(column, node.columns[column]) -%}
            {%- set body = masking_policy_body(policy_type, mask) -%}
            {%- set policy = [node.database, node.schema, 'pii_mask_' ~ column] | join('.') -%}
            {%- if policy not in policies -%}
                {%- do policies.update({policy: policy_type ~ ' ' ~ body}) -%}
                {%- do statements.append(
                    'create masking policy if not exists ' ~ policy
                    ~ ' as (val ' ~ policy_type ~ ') returns ' ~ policy_type ~ ' -> '
                    ~ body ~ " comment = 'pii column " ~ column ~ ": clear only for role "
                    ~ var('pii_reader_role') | upper ~ " (dbt macro masking_policies.sql)'") -%}
                {%- do statements.append(
                    'alter masking policy ' ~ policy ~ ' set body -> ' ~ body) -%}
            {%- elif policies[policy] != policy_type ~ ' ' ~ body -%}
                {%- do exceptions.raise_compiler_error(
                    'masking policy ' ~ policy ~ ': ' ~ node.name ~ '.' ~ column
                    ~ ' needs another type or mask than a same-named column of its schema;'
                    ~ ' give them one data type and meta mask') -%}
            {%- endif -%}
            {%- do statements.append(
                'alter ' ~ kind ~ ' ' ~ relation ~ ' modify column ' ~ column
                ~ ' set masking policy ' ~ policy ~ ' force') -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}

{#- The models and snapshots of this project, from dbt's graph. -#}
{% macro masking_policy_nodes() -%}
    {%- set nodes = [] -%}
    {%- for node in graph.nodes.values()
        if node.resource_type in ['model', 'snapshot'] and node.package_name == project_name -%}
        {%- do nodes.append(node) -%}
    {%- endfor -%}
    {{ return(nodes | sort(attribute='unique_id')) }}
{%- endmacro %}

{#- Post-hook (the node just built) or run-operation (every node). -#}
{% macro apply_masking_policies() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {#- In a hook `model` is the node just built; in a run-operation, the macro. -#}
    {%- set in_hook = model is defined and model is mapping
        and model.get('resource_type') in ['model', 'snapshot'] -%}
    {%- set nodes = [model] if in_hook else masking_policy_nodes() -%}
    {%- set statements = masking_policy_statements(nodes) -%}
    {%- if not statements -%}
        {{ return('') }}
    {%- endif -%}
    {%- set what = nodes[0].name if in_hook else 'the project' -%}
    {%- if target.type != 'snowflake' or not var('apply_masking_policies', true) -%}
        {%- do log('masking policies of ' ~ what ~ ': not applied (target type ' ~ target.type
            ~ ', var apply_masking_policies ' ~ var('apply_masking_policies', true)
            ~ '); on Snowflake they would run ' ~ statements | length ~ ' statements',
            info=not in_hook) -%}
        {{ return('') }}
    {%- endif -%}
    {#- dbt itself must see clear values: a masked staging view would feed
        masks into every model built from it. -#}
    {%- set reader = var('pii_reader_role') | upper -%}
    {%- set held = run_query("select is_role_in_session('" ~ reader ~ "')") -%}
    {%- if not held.columns[0].values()[0] -%}
        {%- do exceptions.raise_compiler_error(
            'masking policies: this session lacks role ' ~ reader ~ ', so the models built'
            ~ ' from ' ~ what ~ " would read masked values; grant it to dbt's role first"
            ~ ' (security/README.md)') -%}
    {%- endif -%}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {%- do log('masking policies of ' ~ what ~ ': ' ~ statements | length ~ ' statements run',
        info=not in_hook) -%}
    {{ return('') }}
{%- endmacro %}

{#- Run-operation: print the Snowflake SQL for every pii column, run nothing. -#}
{% macro print_masking_policies() -%}
    {%- if execute -%}
        {%- for statement in masking_policy_statements(masking_policy_nodes()) -%}
            {%- do print(statement ~ ';') -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
