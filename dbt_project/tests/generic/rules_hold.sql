{#-
  Fails on every row that breaks one of the model's row rules, and names the rules each stored
  failing row breaks (failed_rules). The rules are:
  - `not_null`: columns never NULL, one rule `<column>_not_null` each;
  - `accepted_values`: column -> the values it may take, one rule `<column>_accepted_values` each;
    NULL is accepted (a column that must not be NULL is listed in `not_null` too);
  - `rules`: a rule's name -> a boolean SQL expression, where NULL counts as broken.
  One test per model and severity rather than one per column or rule: each test is a dbt node and a
  Dagster check with a fixed cost whatever the table's size (docs/decisions.md).
-#}
{% test rules_hold(model, rules={}, not_null=[], accepted_values={}) %}
{%- set all_rules = {} -%}
{%- for column in not_null -%}
    {%- do all_rules.update({column ~ '_not_null': column ~ ' is not null'}) -%}
{%- endfor -%}
{%- for column, values in accepted_values.items() -%}
    {%- set literals = [] -%}
    {%- for value in values -%}
        {%- do literals.append("'" ~ (value | replace("'", "''")) ~ "'" if value is string else value | string) -%}
    {%- endfor -%}
    {%- do all_rules.update({column ~ '_accepted_values': column ~ ' is null or ' ~ column ~ ' in (' ~ literals | join(', ') ~ ')'}) -%}
{%- endfor -%}
{%- do all_rules.update(rules) -%}
select
    *,
    concat_ws(
        ', ',
        {%- for name, expression in all_rules.items() %}
        case when not coalesce(({{ expression }}), false) then '{{ name }}' end{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) as failed_rules
from {{ model }}
where {% for expression in all_rules.values() -%}
    not coalesce(({{ expression }}), false){% if not loop.last %}
    or {% endif %}
{%- endfor %}
{% endtest %}
