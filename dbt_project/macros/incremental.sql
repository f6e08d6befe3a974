{#-
  Incremental models rebuild only the keys whose raw rows landed since the last successful build
  (docs/decisions.md, Incremental builds). The orchestrator passes that build's newest landing time
  as the var `loaded_since`, or runs a full refresh when an incremental step could not be sure.
-#}

{#-
  Landing time after which raw rows count as changed: `loaded_since` minus the lookback. Commands
  that only compile (docs generate, compile) render without the var: their SQL is not run.
-#}
{% macro changed_since() -%}
    {%- set loaded_since = var('loaded_since', none) -%}
    {%- if loaded_since is none and is_incremental() and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error("var 'loaded_since' is required for an incremental build of " ~ this ~ ": run through `cx-pipeline run`, or pass --full-refresh") }}
    {%- endif -%}
    (cast({{ "'" ~ loaded_since ~ "'" if loaded_since is not none else 'null' }} as timestamp) - to_hours({{ var('incremental_lookback_hours') | int }}))
{%- endmacro %}

{#- Keys of a raw entity with a row landed since the last build. -#}
{% macro changed_keys(relation, key) -%}
    select {{ key }} from {{ relation }} where _loaded_at > {{ changed_since() }}
{%- endmacro %}

{#-
  An incremental model whose keys can disappear (a deleted record, a ticket merged away) collects
  its changed keys in a pre-hook, so that its merge can delete the changed keys the increment does
  not return any more. Config values are fixed when dbt parses the project, hooks are rendered when
  the model runs: the merge condition names the table, the hook fills it.
-#}
{% macro changed_keys_table() -%}
    {{ this.identifier }}__changed_keys
{%- endmacro %}

{% macro collect_changed_keys(changed_keys_sql) -%}
    {%- if is_incremental() -%}
        create or replace temp table {{ changed_keys_table() }} as {{ changed_keys_sql }}
    {%- endif -%}
{%- endmacro %}

{% macro delete_vanished_keys(key) -%}
    {{ return({
        'when_not_matched': [
            {'action': 'insert', 'mode': 'by_name'},
            {
                'by': 'source',
                'condition': 'DBT_INTERNAL_DEST.' ~ key ~ ' in (select ' ~ key ~ ' from ' ~ changed_keys_table() ~ ')',
                'action': 'delete',
            },
        ]
    }) }}
{%- endmacro %}
