{#-
  The lifecycle stage of every CRM account at the end of every reporting month (metrics.md,
  cx_customer_360): whole calendar months from its sign-up date (created_at, UTC) to the month's
  reference date, the last day before the month's measurement instant (the month's last day, or
  the as-of date in the running month). Stages: < 3 onboarding, 3 to < 12 adopting, 12 to < 24
  established, >= 24 loyal. An incremental build recomputes the changed accounts and every month
  from the first restated month.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_rows(restated_rows(changed_keys(source('crm', 'accounts'), 'account_id'), 'account_id')) }}"
    )
}}
-- depends_on: {{ source('crm', 'accounts') }}
-- depends_on: {{ source('billing', 'fx_rates') }}

with

months as (
    select
        month,
        -- The last day measured: the day before the measurement instant.
        (measured_before - 1)::date as reference_date
    from {{ ref('int_reporting_months') }}
),

accounts as (
    select
        account_id,
        created_at::date as signup_date
    from {{ ref('stg_crm__accounts') }}
),

account_months as (
    select
        accounts.account_id,
        months.month,
        months.reference_date,
        accounts.signup_date,
        {{ months_since_signup('accounts.signup_date', 'months.reference_date') }} as months_since_signup
    from accounts
    cross join months
    {%- if is_incremental() %}
    where {{ restated_rows(changed_keys(source('crm', 'accounts'), 'account_id'), 'accounts.account_id', 'months.month') }}
    {%- endif %}
),

final as (
    select
        account_id,
        month,
        reference_date,
        signup_date,
        months_since_signup,
        {{ lifecycle_stage('months_since_signup') }} as lifecycle_stage
    from account_months
)

select
    *,
    {{ build_marker() }}
from final
