{#-
  Published figures are rounded once, in the marts: money and other amounts (minutes, months) to
  6 decimals, far below a cent, so bridges still add up to the cent; rates and ratios to 10
  decimals. This removes binary floating-point noise such as 110.00000000000001 without changing
  any reported value.
-#}
{% macro round_money(expression) -%}
    round({{ expression }}, 6)
{%- endmacro %}

{% macro round_rate(expression) -%}
    round({{ expression }}, 10)
{%- endmacro %}
