{#-
  One row per account and month of the 12 reporting months ending with the as-of month (the window
  of cx_customer_360's 12-month figures, its only reader) in which the account had an invoice, an
  order, a ticket or MRR at the month end: its revenue (by issued_at month, converted), orders,
  tickets and complaints (by created_at month), and the support and retention costs of the month
  allocated to it (metrics.md, client_profitability_12m):
  - support costs by the account's share of the month's tickets: costs shared by all segments
    (segment NULL) over all tickets counted in the month (tickets matched to no account take their
    share, which stays unallocated, as in cx_costs_monthly.support_cost_per_ticket); costs of a
    segment over the tickets of that segment's accounts;
  - retention costs (types retention and success) equally over the month's paying customers (MRR
    > 0 at the month end): shared costs over all of them (cx_costs_monthly.crc), costs of a segment
    over the segment's paying customers.
  An account's segment is its latest CRM segment; accounts missing from the CRM bear shared costs
  only. A segment's costs in a month without any of its tickets / paying customers stay unallocated.
  Earlier months are not computed: at a million accounts the whole history took 43 s and the window
  10 s (docs/performance.md).
-#}
{%- set window_start = "(date_trunc('month', " ~ as_of_date() ~ ") - interval 11 month)::date" %}
with

months as (
    select month
    from {{ ref('int_reporting_months') }}
    where month >= {{ window_start }}
),

accounts as (
    select
        account_id,
        segment
    from {{ ref('stg_crm__accounts') }}
),

invoices as (
    select
        account_id,
        month,
        revenue,
        {{ is_paid_revenue() }} as is_paid_revenue,
        {{ is_counted_credit_note() }} as is_credit_note,
        is_order,
        is_out_of_policy
    from {{ ref('int_invoices_converted') }}
    where month >= {{ window_start }}
),

tickets as (
    select
        ticket_id,
        account_id,
        month,
        category
    from {{ ref('int_ticket_facts') }}
    where month >= {{ window_start }}
),

account_mrr as (
    select
        account_id,
        month,
        is_paying
    from {{ ref('int_account_mrr_monthly') }}
    where month >= {{ window_start }}
),

costs as (
    select
        month,
        segment,
        sum(amount) filter (where cost_type = 'support') as support_cost,
        sum(amount) filter (where cost_type in ('retention', 'success')) as retention_cost
    from {{ ref('int_costs_monthly') }}
    group by month, segment
),

-- One row per invoice (an order is an invoice), ticket and paying month-end, counted once per account
-- and month: aggregates joined on a distinct union of their keys took twice as long at a million
-- accounts.
activity as (
    select
        account_id,
        month,
        revenue,
        is_paid_revenue,
        is_credit_note,
        is_order,
        is_out_of_policy as is_out_of_policy_order,
        false as is_ticket,
        false as is_complaint,
        false as is_paying
    from invoices

    union all

    select
        account_id,
        month,
        null,
        false,
        false,
        false,
        false,
        true,
        category = 'complaint',
        false
    from tickets
    where account_id is not null

    union all

    select
        account_id,
        month,
        null,
        false,
        false,
        false,
        false,
        false,
        false,
        true
    from account_mrr
    where is_paying
),

activity_totals as (
    select
        activity.account_id,
        activity.month,
        coalesce(sum(activity.revenue) filter (where activity.is_paid_revenue), 0) as revenue_paid,
        coalesce(sum(activity.revenue) filter (where activity.is_credit_note), 0) as credit_notes_amount,
        count(*) filter (where activity.is_order) as orders,
        count(*) filter (where activity.is_out_of_policy_order) as out_of_policy_orders,
        count(*) filter (where activity.is_ticket) as tickets,
        count(*) filter (where activity.is_complaint) as complaints,
        bool_or(activity.is_paying) as is_paying
    from activity
    -- Months outside the reporting months are not reported.
    inner join months
        on activity.month = months.month
    group by activity.account_id, activity.month
),

-- The segment joined to the account-months rather than to every activity row before grouping: a
-- fifth of the model's time at a million accounts.
base as (
    select
        activity_totals.account_id,
        activity_totals.month,
        accounts.segment,
        activity_totals.* exclude (account_id, month)
    from activity_totals
    left join accounts
        on activity_totals.account_id = accounts.account_id
),

-- Denominators: every ticket counted in the month (with or without an account) and every paying
-- customer (in or out of the CRM); per segment, those of the segment's accounts.
month_tickets as (
    select
        month,
        count(*) as tickets
    from tickets
    group by month
),

segment_totals as (
    select
        month,
        segment,
        sum(tickets) as tickets,
        count(*) filter (where is_paying) as customers
    from base
    where segment is not null
    group by month, segment
),

month_paying as (
    select
        month,
        count(*) as customers
    from base
    where is_paying
    group by month
),

allocated as (
    select
        base.*,
        coalesce(shared_costs.support_cost * {{ safe_divide('base.tickets', 'month_tickets.tickets') }}, 0)
            + coalesce(segment_costs.support_cost * {{ safe_divide('base.tickets', 'segment_totals.tickets') }}, 0)
            as support_cost_allocated,
        case when base.is_paying then
            coalesce({{ safe_divide('shared_costs.retention_cost', 'month_paying.customers') }}, 0)
            + coalesce({{ safe_divide('segment_costs.retention_cost', 'segment_totals.customers') }}, 0)
        else 0 end as retention_cost_allocated
    from base
    left join costs as shared_costs
        on base.month = shared_costs.month
        and shared_costs.segment is null
    left join costs as segment_costs
        on base.month = segment_costs.month
        and base.segment = segment_costs.segment
    left join month_tickets
        on base.month = month_tickets.month
    left join segment_totals
        on base.month = segment_totals.month
        and base.segment = segment_totals.segment
    left join month_paying
        on base.month = month_paying.month
),

final as (
    select
        account_id,
        month,
        segment,
        credit_notes_amount,
        revenue_paid + credit_notes_amount as net_revenue,
        orders,
        out_of_policy_orders,
        tickets,
        complaints,
        is_paying,
        support_cost_allocated,
        retention_cost_allocated,
        revenue_paid + credit_notes_amount - support_cost_allocated - retention_cost_allocated as profitability
    from allocated
)

select * from final
