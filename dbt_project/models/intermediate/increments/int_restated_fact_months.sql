{#-
  The reporting months whose monthly facts an incremental build recomputes for every account, in
  the sums by account attributes (int_attribute_sums_monthly), the monthly tickets
  (cx_tickets_monthly), the MRR bridge (cx_mrr_monthly), the logo churn (cx_churn_monthly), the
  cohorts (cx_cohort_retention) and the surveys (cx_surveys_monthly):
  - every month from the last build's as-of month (or this build's, if earlier): lifecycle stages
    are taken at the as-of date, which moves every night, and on a night that moves into a later
    month the last as-of month's stages move to its end and it becomes complete;
  - every month from the first one a change of MRR movements can reach: the earliest first changed
    month of a changed account (int_changed_accounts; -infinity restates every month);
  - the month of every version of a changed ticket (created_at; a version of the ticket or of one
    of its events landed since the last build) or survey response (submitted_at): the month a
    ticket or response moved to and the one it left, with or without an account.
  Worked out once per build for the pre-hooks and queries of its readers (macros
  restated_fact_months, delete_restated_fact_months). A full refresh reads none of it.
-#}
with

first_restated_month as (
    select least(
        date_trunc('month', {{ previous_as_of_date() }})::date,
        date_trunc('month', {{ as_of_date() }})::date,
        (select min(from_month) from ({{ changed_mrr_account_months() }}) as changed_accounts)
    ) as month
),

version_months as (
    select date_trunc('month', created_at)::date as month
    from ({{ versions_of_changed_tickets() }}) as ticket_versions

    union

    select date_trunc('month', submitted_at)::date as month
    from ({{ versions_of_changed_responses() }}) as response_versions
),

final as (
    select months.month
    from {{ ref('int_reporting_months') }} as months
    where months.month >= (select month from first_restated_month)
        or months.month in (select month from version_months)
)

select * from final
