{#-
  The lifecycle stage (metrics.md, cx_customer_360) is a function of the sign-up date and the day
  measured, so the models that need it compute it with these macros: cx_customer_360 at the as-of
  date, cx_segment_monthly at each month end. A table of every account's stage in every month cost
  more to build and join than computing it (docs/decisions.md, Incremental builds).
-#}

{#- Completed months since sign-up: n such that signup + n months <= reference date
    < signup + (n + 1) months (a month added to the 31st ends on the last day of a shorter month). -#}
{% macro months_since_signup(signup_date, reference_date) -%}
    {%- set calendar_months = "datediff('month', " ~ signup_date ~ ", " ~ reference_date ~ ")" -%}
    ({{ calendar_months }} - case
        when ({{ signup_date }} + to_months({{ calendar_months }}))::date > {{ reference_date }} then 1
        else 0
    end)
{%- endmacro %}

{#- NULL without a sign-up date (the CRM requires one: stg_crm__accounts tests that created_at is not null). -#}
{% macro lifecycle_stage(months_since_signup) -%}
    case
        when {{ months_since_signup }} < 3 then 'onboarding'
        when {{ months_since_signup }} < 12 then 'adopting'
        when {{ months_since_signup }} < 24 then 'established'
        when {{ months_since_signup }} >= 24 then 'loyal'
    end
{%- endmacro %}
