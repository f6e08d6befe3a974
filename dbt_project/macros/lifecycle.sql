{#-
  The lifecycle stage (metrics.md, cx_customer_360) is a function of the sign-up date and the day
  measured. int_account_lifecycle_monthly computes it with these macros, and so does
  cx_segment_monthly rather than join that model: at a million accounts the join on (account_id,
  month) cost it most of its time (docs/performance.md).
-#}

{#- Completed months since sign-up: n such that signup + n months <= reference date < signup + (n + 1)
    months (a month added to the 31st ends on the last day of a shorter month). -#}
{% macro months_since_signup(signup_date, reference_date) -%}
    {%- set calendar_months = "datediff('month', " ~ signup_date ~ ", " ~ reference_date ~ ")" -%}
    ({{ calendar_months }} - case
        when ({{ signup_date }} + to_months({{ calendar_months }}))::date > {{ reference_date }} then 1
        else 0
    end)
{%- endmacro %}

{% macro lifecycle_stage(months_since_signup) -%}
    case
        when {{ months_since_signup }} < 3 then 'onboarding'
        when {{ months_since_signup }} < 12 then 'adopting'
        when {{ months_since_signup }} < 24 then 'established'
        when {{ months_since_signup }} >= 24 then 'loyal'
    end
{%- endmacro %}
