{#- Layers get plain schema names (staging, intermediate, marts) instead of dbt's `main_staging`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
