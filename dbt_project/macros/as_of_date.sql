{#-
  The as-of date of the run: the newest extract date over all files (extracts.md). The
  orchestrator reads it from the ingest log (macro build_value).
-#}
{% macro as_of_date() -%}
    {%- set value = build_value('as_of_date') -%}
    {%- if value is none and execute -%}
        {{ exceptions.raise_compiler_error("var 'as_of_date' is required: run through `cx-pipeline run`, or pass --vars '{as_of_date: YYYY-MM-DD}'") }}
    {%- endif -%}
    cast('{{ value }}' as date)
{%- endmacro %}
