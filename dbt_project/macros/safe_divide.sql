{#- A ratio whose denominator is 0 (or NULL) is NULL, never 0 and never an error (metrics.md). -#}
{% macro safe_divide(numerator, denominator) -%}
    ({{ numerator }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
