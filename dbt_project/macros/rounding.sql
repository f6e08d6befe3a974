{#-
  Published figures are rounded once, in the marts: money and other amounts (minutes, months) to
  6 decimals, far below a cent, so bridges still add up to the cent; rates and ratios to 10
  decimals. This removes binary floating-point noise such as 110.00000000000001 without changing
  any reported value.
  The noise itself depends on the order in which rows were summed, which changes with the physical
  order of a table (an incremental build appends what a full build interleaves). Money often lies
  exactly on a rounding tie (cents times a rate with a few decimals), where noise of either sign
  would round either way; rounding first to 3 more decimals maps both sides of a tie to the same
  value, so the published figure does not depend on the summation order.
-#}
{% macro round_money(expression) -%}
    round(round({{ expression }}, 9), 6)
{%- endmacro %}

{% macro round_rate(expression) -%}
    round(round({{ expression }}, 13), 10)
{%- endmacro %}
