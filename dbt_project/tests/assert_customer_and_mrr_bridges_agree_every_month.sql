{#-
  The bridge identities in the marts' YAML are checked per row, so a month missing from a bridge
  would go unchecked: every reporting month (worked out from raw billing) has a row in both
  cx_mrr_monthly and cx_churn_monthly, and the two bridges tell the same story. A movement has
  accounts exactly when it has MRR (every counted account moves a positive amount), and there
  are customers at the start and at the end exactly when there is MRR.
-#}
{{ config(tags=['history_wide'], meta={'dagster': {'ref': {'name': 'cx_churn_monthly'}}}) }}
with

reporting_months as (
    {{ raw_reporting_months() }}
),

bridges as (
    select
        coalesce(reporting_months.month, mrr.month, churn.month) as month,
        reporting_months.month is not null as is_reporting_month,
        mrr.month is not null as has_mrr_row,
        churn.month is not null as has_customers_row,
        churn.customers_start,
        mrr.mrr_start,
        churn.customers_new,
        mrr.mrr_new,
        churn.customers_reactivated,
        mrr.mrr_reactivation,
        churn.customers_churned,
        mrr.mrr_churned,
        churn.customers_end,
        mrr.mrr_end
    from reporting_months
    full outer join {{ ref('cx_mrr_monthly') }} as mrr
        on reporting_months.month = mrr.month
    full outer join {{ ref('cx_churn_monthly') }} as churn
        on coalesce(reporting_months.month, mrr.month) = churn.month
)

select *
from bridges
where not (is_reporting_month and has_mrr_row and has_customers_row)
    or (customers_start > 0) <> (mrr_start > 0)
    or (customers_new > 0) <> (mrr_new > 0)
    or (customers_reactivated > 0) <> (mrr_reactivation > 0)
    or (customers_churned > 0) <> (mrr_churned > 0)
    or (customers_end > 0) <> (mrr_end > 0)
