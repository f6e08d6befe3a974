{#-
  Fails on every row with a NULL in any of the columns. One test per model rather than dbt's
  not_null per column: each test is a dbt node and a Dagster check, whose fixed cost (some 70 ms)
  over some 300 columns came to a seventh of a nightly build at a million accounts
  (docs/decisions.md). The stored failing rows show which column is NULL, and in which row.
-#}
{% test not_null_columns(model, columns) %}
select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}
{% endtest %}
