{#-
  The health score of every CRM account at the as-of date (metrics.md, cx_customer_360): the
  weighted mean of the components present, weights from the vars health_weight_*; a missing
  component drops out and the others re-weight (NULL when none is present).
  - sentiment: mean normalized score (0-100) of the account's survey responses of the 90 days
    (int_account_cx_90d); missing without a response.
  - MRR trend: 50 + 50 * clamp((mrr_now - mrr_3_months_ago) / mrr_3_months_ago, -1, 1), with
    mrr_now the MRR at the end of the as-of month and mrr_3_months_ago at the end of month m-3 (each
    at its own month's rates); missing when mrr_3_months_ago = 0 (no MRR then, ratio undefined).
  - support: 100 * fcr_rate_90d; missing without a ticket in the 90 days.
  - payment: 0 when any of the account's subscriptions has status past_due, else 100; missing for
    an account without subscriptions.
  health_band on the score rounded as published: red < 50 <= yellow <= 75 < green.
-#}
with

accounts as (
    select account_id
    from {{ ref('stg_crm__accounts') }}
),

experience as (
    select
        account_id,
        sentiment_score_90d,
        fcr_rate_90d
    from {{ ref('int_account_cx_90d') }}
),

account_mrr as (
    select
        account_id,
        month,
        mrr_end
    from {{ ref('int_account_mrr_monthly') }}
    -- The two month ends the trend compares: grouping every account's whole history took five times as long.
    where month in (
        date_trunc('month', {{ as_of_date() }})::date,
        (date_trunc('month', {{ as_of_date() }}) - interval 3 month)::date
    )
),

subscriptions as (
    select
        account_id,
        count(*) as subscriptions,
        bool_or(status = 'past_due') as has_past_due_subscription
    from {{ ref('stg_billing__subscriptions') }}
    group by account_id
),

mrr_trend as (
    select
        account_id,
        sum(mrr_end) filter (
            where month = date_trunc('month', {{ as_of_date() }})::date
        ) as mrr_now,
        sum(mrr_end) filter (
            where month = (date_trunc('month', {{ as_of_date() }}) - interval 3 month)::date
        ) as mrr_3_months_ago
    from account_mrr
    group by account_id
),

inputs as (
    select
        accounts.account_id,
        experience.sentiment_score_90d,
        experience.fcr_rate_90d,
        -- No row: the account had not paid yet (or never did): MRR 0.
        coalesce(mrr_trend.mrr_now, 0) as mrr_now,
        coalesce(mrr_trend.mrr_3_months_ago, 0) as mrr_3_months_ago,
        coalesce(subscriptions.subscriptions, 0) as subscriptions,
        subscriptions.has_past_due_subscription
    from accounts
    left join experience
        on accounts.account_id = experience.account_id
    left join mrr_trend
        on accounts.account_id = mrr_trend.account_id
    left join subscriptions
        on accounts.account_id = subscriptions.account_id
),

components as (
    select
        *,
        sentiment_score_90d as sentiment_component,
        case
            when mrr_3_months_ago > 0 then
                50 + 50 * greatest(-1, least(1, (mrr_now - mrr_3_months_ago) / mrr_3_months_ago))
        end as mrr_trend_component,
        100 * fcr_rate_90d as support_component,
        case
            when subscriptions = 0 then null
            when has_past_due_subscription then 0.0::double
            else 100.0::double
        end as payment_component
    from inputs
),

scored as (
    select
        *,
        (
            coalesce({{ var('health_weight_sentiment') }} * sentiment_component, 0)
            + coalesce({{ var('health_weight_mrr_trend') }} * mrr_trend_component, 0)
            + coalesce({{ var('health_weight_support') }} * support_component, 0)
            + coalesce({{ var('health_weight_payment') }} * payment_component, 0)
        ) / nullif(
            case when sentiment_component is not null then {{ var('health_weight_sentiment') }} else 0 end
            + case when mrr_trend_component is not null then {{ var('health_weight_mrr_trend') }} else 0 end
            + case when support_component is not null then {{ var('health_weight_support') }} else 0 end
            + case when payment_component is not null then {{ var('health_weight_payment') }} else 0 end,
            0
        ) as health_score
    from components
),

final as (
    select
        account_id,
        sentiment_score_90d,
        fcr_rate_90d,
        mrr_now,
        mrr_3_months_ago,
        subscriptions,
        has_past_due_subscription,
        sentiment_component,
        mrr_trend_component,
        support_component,
        payment_component,
        health_score,
        -- Banded as published (6 decimals), so a score of 75 with float noise stays yellow.
        case
            when {{ round_money('health_score') }} < 50 then 'red'
            when {{ round_money('health_score') }} <= 75 then 'yellow'
            when {{ round_money('health_score') }} > 75 then 'green'
        end as health_band
    from scored
)

select * from final
