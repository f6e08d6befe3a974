{#-
  One row per CRM account as of the as-of date (metrics.md, cx_customer_360). Windows:
  - "90 days": [as_of_date + 1 day - 90 days, as_of_date + 1 day) by ticket created_at and survey
    submitted_at (int_account_cx_90d);
  - "12 months": the 12 reporting months ending with the as-of month (months m-11..m, the as-of
    month to date), by the month money, orders, tickets and costs count in.
  Money in the reporting currency, each invoice at its issue month's rate. PII (email, phone) is
  never selected.
-#}
with

as_of as (
    select
        {{ as_of_date() }} as as_of_date,
        date_trunc('month', {{ as_of_date() }})::date as as_of_month
),

accounts as (
    select
        account_id,
        account_name,
        segment,
        country_code,
        region,
        industry,
        acquisition_channel,
        created_at
    from {{ ref('stg_crm__accounts') }}
),

-- The stage at the as-of date, the last day the as-of month measures.
signups as (
    select
        accounts.account_id,
        accounts.created_at::date as signup_date,
        {{ months_since_signup('accounts.created_at::date', 'as_of.as_of_date') }} as months_since_signup
    from accounts
    cross join as_of
),

lifecycle as (
    select
        account_id,
        signup_date,
        months_since_signup,
        {{ lifecycle_stage('months_since_signup') }} as lifecycle_stage
    from signups
),

account_mrr as (
    select
        account_mrr.account_id,
        account_mrr.first_paid_month,
        account_mrr.mrr_end
    from {{ ref('int_account_mrr_monthly') }} as account_mrr
    inner join as_of
        on account_mrr.month = as_of.as_of_month
),

-- Revenue to date: every invoice of the reporting months, summed exactly, one row per account.
invoice_totals as (
    select
        account_id,
        (revenue_paid + credit_note_revenue)::double as realized_revenue,
        revenue_paid::double as revenue_paid,
        invoices_paid
    from {{ ref('int_account_invoice_totals') }}
),

-- The sums of the 12 months m-11..m, one row per account.
economics as (
    select * from {{ ref('int_account_economics_12m') }}
),

subscription_mrr as (
    select
        subscription_mrr.subscription_id,
        subscription_mrr.account_id,
        subscription_mrr.mrr_native * fx.rate as mrr
    from {{ ref('int_subscription_mrr_monthly') }} as subscription_mrr
    inner join as_of
        on subscription_mrr.month = as_of.as_of_month
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on subscription_mrr.month = fx.month
        and subscription_mrr.currency = fx.currency
),

subscriptions as (
    select
        subscription_id,
        product_id
    from {{ ref('stg_billing__subscriptions') }}
),

experience as (
    select * from {{ ref('int_account_cx_90d') }}
),

-- The latest response by (submitted_at, response_id), as one aggregate per account: a window
-- partitioned by account sorted two million responses at a million accounts (docs/performance.md).
nps_latest as (
    select
        responses.account_id,
        arg_max(
            {'score': responses.score, 'category': responses.nps_category, 'submitted_at': responses.submitted_at},
            (responses.submitted_at, responses.response_id)
        ) as latest
    from {{ ref('int_survey_responses_scored') }} as responses
    cross join as_of
    where responses.nps_category is not null
        and responses.submitted_at < as_of.as_of_date + 1
    group by responses.account_id
),

nps_last as (
    select
        account_id,
        latest.score as nps_last,
        latest.category as nps_last_category,
        latest.submitted_at as nps_last_submitted_at
    from nps_latest
),

health as (
    select * from {{ ref('int_account_health') }}
),

segment_lifetime as (
    select
        clv.segment,
        clv.expected_lifetime_months
    from {{ ref('cx_clv_monthly') }} as clv
    inner join as_of
        on clv.month = as_of.as_of_month
),

subscription_totals as (
    select
        subscription_mrr.account_id,
        count(*) as active_subscriptions,
        avg(subscription_mrr.mrr * 12) as avg_contract_value,
        count(distinct subscriptions.product_id) as products_used
    from subscription_mrr
    left join subscriptions
        on subscription_mrr.subscription_id = subscriptions.subscription_id
    group by subscription_mrr.account_id
),

joined as (
    select
        accounts.account_id,
        accounts.account_name,
        accounts.segment,
        accounts.country_code,
        accounts.region,
        accounts.industry,
        accounts.acquisition_channel,
        lifecycle.signup_date,
        lifecycle.months_since_signup,
        lifecycle.lifecycle_stage,
        coalesce(account_mrr.mrr_end, 0) as current_mrr,
        account_mrr.first_paid_month,
        coalesce(invoice_totals.realized_revenue, 0) as realized_revenue,
        coalesce(invoice_totals.revenue_paid, 0) as revenue_paid,
        coalesce(invoice_totals.invoices_paid, 0)::bigint as invoices_paid,
        coalesce(subscription_totals.active_subscriptions, 0) as active_subscriptions,
        subscription_totals.avg_contract_value,
        coalesce(subscription_totals.products_used, 0) as products_used,
        coalesce(experience.tickets_90d, 0) as tickets_90d,
        experience.first_response_minutes_avg_90d,
        experience.fcr_rate_90d,
        coalesce(experience.survey_responses_90d, 0) as survey_responses_90d,
        coalesce(experience.csat_responses_90d, 0) as csat_responses_90d,
        experience.csat_score_90d,
        coalesce(economics.net_revenue_12m, 0) as net_revenue_12m,
        coalesce(economics.complaints_12m, 0) as complaints_12m,
        coalesce(economics.support_cost_12m, 0) as support_cost_12m,
        coalesce(economics.retention_cost_12m, 0) as retention_cost_12m,
        coalesce(economics.client_profitability_12m, 0) as client_profitability_12m,
        coalesce(economics.orders_12m, 0) as orders_12m,
        coalesce(economics.out_of_policy_orders_12m, 0) as out_of_policy_orders_12m,
        nps_last.nps_last,
        nps_last.nps_last_category,
        nps_last.nps_last_submitted_at,
        health.mrr_3_months_ago,
        health.sentiment_component,
        health.mrr_trend_component,
        health.support_component,
        health.payment_component,
        health.health_score,
        health.health_band,
        segment_lifetime.expected_lifetime_months
    from accounts
    left join lifecycle
        on accounts.account_id = lifecycle.account_id
    left join account_mrr
        on accounts.account_id = account_mrr.account_id
    left join invoice_totals
        on accounts.account_id = invoice_totals.account_id
    left join economics
        on accounts.account_id = economics.account_id
    left join subscription_totals
        on accounts.account_id = subscription_totals.account_id
    left join experience
        on accounts.account_id = experience.account_id
    left join nps_last
        on accounts.account_id = nps_last.account_id
    left join health
        on accounts.account_id = health.account_id
    left join segment_lifetime
        on accounts.segment = segment_lifetime.segment
),

rounded as (
    select
        *,
        {{ round_money('current_mrr') }} as current_mrr_rounded,
        {{ round_money('realized_revenue') }} as realized_revenue_rounded,
        {{ round_money('net_revenue_12m') }} as net_revenue_12m_rounded
    from joined
),

final as (
    select
        rounded.account_id,
        rounded.account_name,
        rounded.segment,
        rounded.country_code,
        rounded.region,
        rounded.industry,
        rounded.acquisition_channel,
        rounded.signup_date,
        rounded.months_since_signup,
        rounded.lifecycle_stage,
        rounded.current_mrr > 0 as is_paying,
        rounded.first_paid_month,
        rounded.current_mrr_rounded as current_mrr,
        rounded.realized_revenue_rounded as realized_revenue,
        rounded.active_subscriptions,
        {{ round_money('rounded.avg_contract_value') }} as avg_contract_value,
        rounded.invoices_paid,
        {{ round_money(safe_divide('rounded.revenue_paid', 'rounded.invoices_paid')) }} as avg_transaction_size,
        rounded.tickets_90d,
        {{ round_money('rounded.first_response_minutes_avg_90d') }} as first_response_minutes_avg_90d,
        {{ round_rate('rounded.fcr_rate_90d') }} as fcr_rate_90d,
        rounded.net_revenue_12m_rounded as net_revenue_12m,
        rounded.complaints_12m,
        -- Complaints per 1,000 of net revenue; NULL when the 12 months' net revenue is 0.
        {{ round_money(safe_divide('1000.0 * rounded.complaints_12m', 'rounded.net_revenue_12m_rounded')) }} as complaints_per_1k_revenue_12m,
        {{ round_money('rounded.support_cost_12m') }} as support_cost_12m,
        {{ round_money('rounded.retention_cost_12m') }} as retention_cost_12m,
        {{ round_money('rounded.client_profitability_12m') }} as client_profitability_12m,
        rounded.products_used,
        rounded.orders_12m,
        rounded.out_of_policy_orders_12m,
        rounded.nps_last,
        rounded.nps_last_category,
        rounded.nps_last_submitted_at,
        rounded.survey_responses_90d,
        rounded.csat_responses_90d,
        {{ round_money('rounded.csat_score_90d') }} as csat_score_90d,
        {{ round_money('rounded.mrr_3_months_ago') }} as mrr_3_months_ago,
        {{ round_money('rounded.sentiment_component') }} as health_sentiment_score,
        {{ round_money('rounded.mrr_trend_component') }} as health_mrr_trend_score,
        {{ round_money('rounded.support_component') }} as health_support_score,
        {{ round_money('rounded.payment_component') }} as health_payment_score,
        {{ round_money('rounded.health_score') }} as health_score,
        rounded.health_band,
        rounded.expected_lifetime_months,
        -- From the published parts. Without MRR now nothing more is expected, whatever the
        -- segment's lifetime (NULL when the segment had no churn: unbounded).
        {{ round_money(
            'rounded.realized_revenue_rounded + case when rounded.current_mrr = 0 then 0
                else rounded.current_mrr_rounded * rounded.expected_lifetime_months end'
        ) }} as predicted_clv,
        as_of.as_of_date
    from rounded
    cross join as_of
)

select * from final
