{#-
  Reconciliation across layers, straight from raw helpdesk and independent of staging and
  int_ticket_facts (its own latest-version selection and month spine): each reporting month's
  published tickets_created equals the tickets received in the month, by created_at, whose latest
  version is neither deleted nor merged into another ticket.
-#}
{{ config(tags=['history_wide'], meta={'dagster': {'ref': {'name': 'cx_tickets_monthly'}}}) }}
with

reporting_months as (
    {{ raw_reporting_months() }}
),

latest_tickets as (
    select
        created_at,
        is_deleted,
        merged_into_ticket_id
    from {{ source('helpdesk', 'tickets') }}
    qualify row_number() over (
        partition by ticket_id
        order by updated_at desc, _extract_date desc, _row_number desc
    ) = 1
),

expected as (
    select
        date_trunc('month', created_at)::date as month,
        count(*) as tickets_created
    from latest_tickets
    where not coalesce(is_deleted, false)
        and merged_into_ticket_id is null
    group by 1
),

published as (
    select
        month,
        tickets_created
    from {{ ref('cx_tickets_monthly') }}
)

select
    coalesce(reporting_months.month, published.month) as month,
    published.tickets_created,
    coalesce(expected.tickets_created, 0) as expected_tickets_created
from reporting_months
full outer join published
    on reporting_months.month = published.month
left join expected
    on reporting_months.month = expected.month
where reporting_months.month is null
    or published.month is null
    or published.tickets_created <> coalesce(expected.tickets_created, 0)
