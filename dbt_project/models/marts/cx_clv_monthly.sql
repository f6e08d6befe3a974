with

segment_customers as (
    select * from {{ ref('int_segment_customers_monthly') }}
),

acquisition_costs as (
    select
        month,
        segment,
        amount
    from {{ ref('int_costs_monthly') }}
    where cost_type = 'acquisition'
),

churn as (
    select
        month,
        segment,
        customers_end,
        customers_new,
        {{ safe_divide('mrr_end', 'customers_end') }} as arpa,
        {{ safe_divide('customers_churned', 'customers_start') }} as logo_churn_rate
    from segment_customers
),

lifetime as (
    select
        *,
        -- avg() skips months whose rate is undefined (no customers at the start).
        avg(logo_churn_rate) over (
            partition by segment
            order by month
            rows between 5 preceding and current row
        ) as avg_logo_churn_rate_6m
    from churn
),

shared_acquisition as (
    select
        month,
        sum(amount) as amount
    from acquisition_costs
    where segment is null
    group by month
),

own_acquisition as (
    select
        month,
        segment,
        sum(amount) as amount
    from acquisition_costs
    where segment is not null
    group by month, segment
),

segment_acquisition as (
    -- A segment bears its own acquisition costs plus the shared ones in proportion to its share of
    -- the month's new customers; `all` bears every acquisition cost.
    select
        lifetime.month,
        lifetime.segment,
        case
            when lifetime.segment = 'all'
                then coalesce(total_own.amount, 0) + coalesce(shared_acquisition.amount, 0)
            else coalesce(own_acquisition.amount, 0)
                + coalesce(shared_acquisition.amount * {{ safe_divide('lifetime.customers_new', 'all_segments.customers_new') }}, 0)
        end as acquisition_cost
    from lifetime
    inner join lifetime as all_segments
        on lifetime.month = all_segments.month
        and all_segments.segment = 'all'
    left join own_acquisition
        on lifetime.month = own_acquisition.month
        and lifetime.segment = own_acquisition.segment
    left join shared_acquisition
        on lifetime.month = shared_acquisition.month
    left join (
        select month, sum(amount) as amount from own_acquisition group by month
    ) as total_own
        on lifetime.month = total_own.month
),

valued as (
    select
        lifetime.month,
        lifetime.segment,
        lifetime.customers_end,
        lifetime.arpa,
        lifetime.avg_logo_churn_rate_6m,
        {{ safe_divide('1', 'lifetime.avg_logo_churn_rate_6m') }} as expected_lifetime_months,
        {{ safe_divide('segment_acquisition.acquisition_cost', 'lifetime.customers_new') }} as cac
    from lifetime
    inner join segment_acquisition
        on lifetime.month = segment_acquisition.month
        and lifetime.segment = segment_acquisition.segment
),

with_clv as (
    select
        *,
        arpa * {{ var('gross_margin_pct') }} / 100 * expected_lifetime_months as clv
    from valued
),

final as (
    select
        month,
        segment,
        customers_end,
        {{ round_money('arpa') }} as arpa,
        {{ round_rate('avg_logo_churn_rate_6m') }} as avg_logo_churn_rate_6m,
        {{ round_money('expected_lifetime_months') }} as expected_lifetime_months,
        {{ round_money('clv') }} as clv,
        {{ round_money('cac') }} as cac,
        {{ round_money('clv - cac') }} as clv_net,
        {{ round_rate(safe_divide('clv', 'cac')) }} as clv_to_cac
    from with_clv
)

select * from final
order by month, segment
