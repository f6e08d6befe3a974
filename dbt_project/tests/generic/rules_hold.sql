{#-
  Fails on every row that breaks one of the model's rules: `rules` maps a rule's name to a boolean
  SQL expression, and NULL counts as broken. Each stored failing row names the rules it breaks
  (failed_rules). One test per model and severity rather than one per rule: each test is a dbt node
  and a Dagster check with a fixed cost whatever the table's size (docs/decisions.md).
-#}
{% test rules_hold(model, rules) %}
select
    *,
    concat_ws(
        ', ',
        {%- for name, expression in rules.items() %}
        case when not coalesce(({{ expression }}), false) then '{{ name }}' end{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as failed_rules
from {{ model }}
where {% for expression in rules.values() -%}
    not coalesce(({{ expression }}), false){% if not loop.last %}
    or {% endif %}
{%- endfor %}
{% endtest %}
