{#- The date a due renewal's grace window closes: a renewal must start before it. -#}
{% macro renewal_grace_ends(period_end) -%}
    ({{ period_end }} + {{ var('renewal_grace_days') }}::integer)::date
{%- endmacro %}

{#-
  Whether moving the as-of date from the last build's to this build's changes the renewal an
  invoice whose service period ends at `period_end` would be due for (int_renewals): its grace
  window closed in between (the last as-of date < grace end <= this one), so it is no longer
  pending; or it is due in a month the as-of date moved into, reported from now on.
-#}
{% macro renewal_moved_by_the_as_of_date(period_end) -%}
    (
        ({{ renewal_grace_ends(period_end) }} > {{ previous_as_of_date() }}
            and {{ renewal_grace_ends(period_end) }} <= {{ as_of_date() }})
        or ({{ as_of_month_moved() }}
            and {{ period_end }} >= date_trunc('month', {{ previous_as_of_date() }}) + interval 1 month
            and {{ period_end }} < date_trunc('month', {{ as_of_date() }}) + interval 1 month)
    )
{%- endmacro %}
