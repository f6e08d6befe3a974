{#-
  Warns when a headline rate of the latest complete month moves away from its trailing average.
  The running month is left out: it holds a few days only and would always look anomalous.

  Relative, not absolute: fails when |value - trailing average| > tolerance * |trailing average|.
  The headline figures differ by orders of magnitude (logo churn around 0.02, FCR around 0.7,
  NPS in points), so one absolute tolerance cannot suit them all, while "moved by more than half
  its usual level" reads the same for each. A trailing average of 0 flags any non-zero value: the
  first churn after months without any is worth a look. For a figure that hovers around 0 (NPS),
  `minimum_change` sets a floor in the figure's own unit below which no move is flagged.

  Months whose value is NULL (an undefined ratio: nothing to divide by) are ignored, neither
  counted as 0 nor as a month of the window. Without any trailing value there is nothing to
  compare, so nothing fails. `partition_by` compares each partition (e.g. segment) to its own
  history; a `where` config restricts the rows.

  It reads every row of the model, in an incremental build too (`reads_every_row`, macro
  get_where_subquery): the rows one build wrote are one or two months, whose trailing window would
  be empty, and nothing would ever fail.
-#}
{% test within_tolerance_of_trailing_average(
    model,
    column_name,
    month_column='month',
    trailing_months=6,
    tolerance=none,
    minimum_change=0,
    partition_by=[]
) %}

{{ config(meta={'reads_every_row': true}) }}

{%- set allowed_relative_change = tolerance if tolerance is not none else var('anomaly_tolerance') -%}
{%- set partition_columns = partition_by | join(', ') -%}

with

monthly_values as (
    select
        {% for column in partition_by %}{{ column }}, {% endfor %}
        {{ month_column }} as month,
        {{ column_name }} as value
    from {{ model }}
    where {{ column_name }} is not null
),

-- Complete means ended on or before the as-of date (metrics.md), so an as-of date on a month's last
-- day makes that month the latest complete one.
latest_complete_month as (
    select (date_trunc('month', {{ as_of_date() }} + 1) - interval 1 month)::date as month
),

latest as (
    select monthly_values.*
    from monthly_values
    inner join latest_complete_month
        on monthly_values.month = latest_complete_month.month
),

trailing_window as (
    select
        {% for column in partition_by %}monthly_values.{{ column }}, {% endfor %}
        avg(monthly_values.value) as trailing_average,
        count(*) as trailing_months_with_value
    from monthly_values
    inner join latest_complete_month
        on monthly_values.month >= latest_complete_month.month - interval {{ trailing_months }} month
        and monthly_values.month < latest_complete_month.month
    {% if partition_by %}group by {{ partition_columns }}{% endif %}
)

select
    latest.*,
    trailing_window.trailing_average,
    trailing_window.trailing_months_with_value,
    {{ allowed_relative_change }} as tolerance
from latest
{% if partition_by -%}
inner join trailing_window
    using ({{ partition_columns }})
{%- else -%}
cross join trailing_window
{%- endif %}
where abs(latest.value - trailing_window.trailing_average) > {{ allowed_relative_change }} * abs(trailing_window.trailing_average)
    and abs(latest.value - trailing_window.trailing_average) > {{ minimum_change }}

{% endtest %}
