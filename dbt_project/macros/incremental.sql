{#-
  Incremental models rebuild only the keys whose raw rows landed since the last successful build
  (docs/decisions.md, Incremental builds). The orchestrator passes that build's newest landing time
  as `loaded_since` (macro build_value), or runs a full refresh when an incremental step could not
  be sure.
-#}

{#-
  Landing time after which raw rows count as changed: the last build's newest landing time minus
  the lookback.
-#}
{% macro changed_since() -%}
    ({{ last_build_landed_at() }} - to_hours({{ var('incremental_lookback_hours') | int }}))
{%- endmacro %}

{#-
  The newest landing time the last build read (`loaded_since`): the raw rows landed until then are
  what it staged. Commands that only compile (docs generate, compile) render without the var:
  their SQL is not run.
-#}
{% macro last_build_landed_at() -%}
    {%- set loaded_since = build_value('loaded_since') -%}
    {%- if loaded_since is none and is_incremental() and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error("var 'loaded_since' is required for an incremental build of " ~ this ~ ": run through `cx-pipeline run`, or pass --full-refresh") }}
    {%- endif -%}
    cast({{ "'" ~ loaded_since ~ "'" if loaded_since is not none else 'null' }} as timestamp)
{%- endmacro %}

{#- Keys of a raw entity with a row landed since the last build. -#}
{% macro changed_keys(relation, key) -%}
    select {{ key }} from {{ relation }} where _loaded_at > {{ changed_since() }}
{%- endmacro %}

{#-
  A model keyed by a record (one row per invoice, ticket, ...) deletes every changed key in its
  pre-hook and appends what the increment returns for them: nothing for a key deleted or merged
  away since. A merge did the same with an update of the matched rows in place, which cost the
  nightly build several times more at a million accounts (docs/performance.md) and scattered the
  build marker over old row groups, where the tests of written rows must then look for it.
-#}
{% macro delete_changed_keys(key, changed_keys_sql, key_range=false) -%}
    {%- set in_range = within_range_of_keys(key, changed_keys_sql, key) ~ ' and ' if key_range else '' -%}
    {{ delete_restated_rows(in_range ~ key ~ ' in (' ~ changed_keys_sql ~ ')') }}
{%- endmacro %}

{#-
  `column` between the smallest and the largest key that `keys_sql` selects (as `key`): implied by
  `column in (keys_sql)`, and checked against each row group's min and max, where the IN alone
  reads the column in every row group. Worth it where a night's keys lie close together in
  storage order, as ticket ids do (a night changes recent tickets, and their versions and events
  land in order): at a million accounts it cut finding the changed tickets' rows in the raw tickets
  from 0.5 to 0.14 s and their events from 1.7 to 0.3 s (docs/performance.md). Not for keys spread
  over the whole range, such as invoices (old ones change too) or survey responses, whose ids
  start with their type: the subqueries then only add work.
-#}
{% macro within_range_of_keys(column, keys_sql, key) -%}
    {{ column }} between (select min({{ key }}) from ({{ keys_sql }})) and (select max({{ key }}) from ({{ keys_sql }}))
{%- endmacro %}

{#-
  Every row an incremental model writes carries the start time of the build that wrote it, so that
  an incremental build's data tests can check the rows it wrote (get_where_subquery).
-#}
{% macro build_marker() -%}
    {{ this_build_started_at() }} as _built_at
{%- endmacro %}

{% macro this_build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{% macro is_incremental_model(relation) -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.materialized == 'incremental'
            and node.alias == relation.identifier and node.schema == relation.schema -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}

{#-
  Overrides dbt's: the relation a generic data test reads. In an incremental build, a test of an
  incremental model reads only the rows this build wrote: the rows kept from earlier builds passed
  the same tests when they were written, and re-reading the whole history every night would cost
  what the increment saves. What this cannot see (a parent deleted under an unchanged child row) is
  seen by the weekly full refresh (docs/decisions.md, Incremental builds). A test that compares
  rows with other rows of the model (the anomaly check's trailing months) says so with meta
  `reads_every_row` and reads them all.
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if execute and build_value('loaded_since') is not none and is_incremental_model(relation)
        and not config.get('meta', {}).get('reads_every_row', false) -%}
        {%- set where = '_built_at = ' ~ this_build_started_at() ~ (' and (' ~ where ~ ')' if where else '') -%}
    {%- endif -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#-
  The rows of cx_feedback an incremental build restates: a response with a version landed (deleted
  or moved to another account too), and every response of an account or ticket with a version
  landed, whose name, segment or category it shows.
-#}
{% macro feedback_restated_rows(relation_alias) -%}
    ({{ relation_alias }}.response_id in ({{ changed_keys(source('crm', 'survey_responses'), 'response_id') }})
        or {{ relation_alias }}.account_id in ({{ changed_keys(source('crm', 'accounts'), 'account_id') }})
        or {{ relation_alias }}.ticket_id in ({{ changed_keys(source('helpdesk', 'tickets'), 'ticket_id') }}))
{%- endmacro %}
