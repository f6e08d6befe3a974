{#- Every cohort is the month's new customers: customers_in_cohort = cx_churn_monthly.customers_new. -#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_cohort_retention'}}}) }}
with

cohorts as (
    select distinct
        cohort_month,
        customers_in_cohort
    from {{ ref('cx_cohort_retention') }}
),

new_customers as (
    select
        month,
        customers_new
    from {{ ref('cx_churn_monthly') }}
    where customers_new > 0
)

select
    coalesce(cohorts.cohort_month, new_customers.month) as month,
    cohorts.customers_in_cohort,
    new_customers.customers_new
from cohorts
full outer join new_customers
    on cohorts.cohort_month = new_customers.month
where cohorts.customers_in_cohort is distinct from new_customers.customers_new
