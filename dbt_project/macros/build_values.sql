{#-
  The values that change with every build: `as_of_date`, and for an incremental build
  `loaded_since` and `previous_as_of_date`. Given as dbt vars (unit tests, dbt run by hand), they
  win; the orchestrator sets them as environment variables CX_BUILD_<NAME> instead, read only when
  SQL is executed, so that they are not part of what dbt parsed: a new --vars value every night
  made dbt re-parse the whole project in every build (docs/decisions.md, Incremental builds).
-#}
{% macro build_value(name) -%}
    {%- set value = var(name, none) -%}
    {%- if value is none and execute -%}
        {%- set value = env_var('CX_BUILD_' ~ (name | upper), '') or none -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
