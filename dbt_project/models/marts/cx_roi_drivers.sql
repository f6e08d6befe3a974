{#-
  What CX is worth: the churn rate in the following month of paying customers by the customer
  experience of their 90 days before the month end, pooled over every month whose next month is
  complete, with the lift over the all-customer rate. Every driver value has a row, also when no
  account-month had it (rates NULL then).
-#}
with

experience as (
    select
        month,
        first_response_band,
        had_unresolved_first_contact,
        last_nps_category,
        churned_next_month
    from {{ ref('int_account_cx_experience') }}
    -- Only account-months whose next month is complete: the outcome is known.
    where churned_next_month is not null
),

driver_values as (
    select * from (
        values
            ('all', 'all', 0),
            ('first_response_band', 'under_1h', 1),
            ('first_response_band', '1h_to_4h', 2),
            ('first_response_band', '4h_to_8h', 3),
            ('first_response_band', '8h_to_24h', 4),
            ('first_response_band', 'over_24h', 5),
            ('first_response_band', 'no_reply_data', 6),
            ('not_first_contact_resolved', 'yes', 7),
            ('not_first_contact_resolved', 'no', 8),
            ('not_first_contact_resolved', 'no_tickets', 9),
            ('last_nps_category', 'promoter', 10),
            ('last_nps_category', 'passive', 11),
            ('last_nps_category', 'detractor', 12),
            ('last_nps_category', 'no_response', 13)
    ) as driver_values (driver, driver_value, sort_order)
),

-- Account-months counted per combination of the three drivers first: a few dozen rows, where
-- reading the 20 million account-months once per driver made DuckDB materialize them.
experience_profiles as (
    select
        first_response_band,
        had_unresolved_first_contact,
        last_nps_category,
        count(*) as customer_months,
        count(*) filter (where churned_next_month) as churned_next_month,
        min(month) as first_observed_month,
        max(month) as last_observed_month
    from experience
    group by first_response_band, had_unresolved_first_contact, last_nps_category
),

observations as (
    -- Each combination's counts once per driver.
    select 'all' as driver, 'all' as driver_value, customer_months, churned_next_month from experience_profiles
    union all
    select 'first_response_band', first_response_band, customer_months, churned_next_month from experience_profiles
    union all
    select 'not_first_contact_resolved', had_unresolved_first_contact, customer_months, churned_next_month from experience_profiles
    union all
    select 'last_nps_category', last_nps_category, customer_months, churned_next_month from experience_profiles
),

by_value as (
    select
        driver,
        driver_value,
        sum(customer_months)::bigint as customer_months,
        sum(churned_next_month)::bigint as churned_next_month
    from observations
    group by driver, driver_value
),

rates as (
    select
        driver_values.driver,
        driver_values.driver_value,
        driver_values.sort_order,
        coalesce(by_value.customer_months, 0) as customer_months,
        coalesce(by_value.churned_next_month, 0) as churned_next_month,
        {{ safe_divide('by_value.churned_next_month', 'by_value.customer_months') }} as churn_rate_next_month
    from driver_values
    left join by_value
        on driver_values.driver = by_value.driver
        and driver_values.driver_value = by_value.driver_value
),

overall as (
    select churn_rate_next_month as overall_churn_rate
    from rates
    where driver = 'all'
),

observed_months as (
    select
        min(first_observed_month) as first_observed_month,
        max(last_observed_month) as last_observed_month
    from experience_profiles
),

final as (
    select
        rates.driver,
        rates.driver_value,
        rates.customer_months,
        rates.churned_next_month,
        {{ round_rate('rates.churn_rate_next_month') }} as churn_rate_next_month,
        {{ round_rate('overall.overall_churn_rate') }} as overall_churn_rate,
        {{ round_rate(safe_divide('rates.churn_rate_next_month', 'overall.overall_churn_rate')) }} as lift,
        {{ round_rate('rates.churn_rate_next_month - overall.overall_churn_rate') }} as churn_rate_difference,
        observed_months.first_observed_month,
        observed_months.last_observed_month,
        rates.sort_order
    from rates
    cross join overall
    cross join observed_months
)

select * exclude (sort_order) from final
order by sort_order
