{#-
  One row per account with an invoice, an order, a ticket or MRR at a month end in the 12 reporting
  months ending with the as-of month (the window of cx_customer_360's 12-month figures, its only
  reader): its revenue (by issued_at month, converted), orders, tickets' complaints (by created_at
  month), and the support and retention costs of each month allocated to it (metrics.md,
  client_profitability_12m):
  - support costs by the account's share of each month's tickets: costs shared by all segments
    (segment NULL) over all tickets counted in the month (tickets matched to no account take their
    share, which stays unallocated, as in cx_costs_monthly.support_cost_per_ticket); costs of a
    segment over the tickets of that segment's accounts;
  - retention costs (types retention and success) equally over each month's paying customers (MRR
    > 0 at the month end): shared costs over all of them (cx_costs_monthly.crc), costs of a segment
    over the segment's paying customers.
  An account's segment is its latest CRM segment; accounts missing from the CRM bear shared costs
  only. A segment's costs in a month without any of its tickets / paying customers stay unallocated.
  Each ticket and paying month-end carries its month's cost per ticket / per customer, so the
  account's 12 months are one sum: grouping by account and month first took twice as long at a
  million accounts and wrote 6 million rows its one reader summed again (docs/performance.md).
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

-- Every segment, and NULL for the accounts missing from the CRM, which bear shared costs only.
segments as (
    select distinct segment from accounts
    union
    select null
),

-- Months outside the reporting months are not reported.
invoices as (
    select
        account_id,
        revenue,
        {{ is_paid_revenue() }} as is_paid_revenue,
        {{ is_counted_credit_note() }} as is_credit_note,
        is_order,
        is_out_of_policy
    from {{ ref('int_invoices_converted') }}
    where month in (select month from months)
),

tickets as (
    select
        tickets.account_id,
        tickets.month,
        tickets.category,
        accounts.segment
    from {{ ref('int_ticket_facts') }} as tickets
    left join accounts
        on tickets.account_id = accounts.account_id
    where tickets.month in (select month from months)
),

paying_month_ends as (
    select
        account_mrr.account_id,
        account_mrr.month,
        accounts.segment
    from {{ ref('int_account_mrr_monthly') }} as account_mrr
    left join accounts
        on account_mrr.account_id = accounts.account_id
    where account_mrr.month in (select month from months)
        and account_mrr.is_paying
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

-- Denominators: every ticket counted in the month (with or without an account) and every paying
-- customer (in or out of the CRM); per segment, those of the segment's accounts.
month_tickets as (
    select
        month,
        count(*) as tickets
    from tickets
    group by month
),

segment_tickets as (
    select
        month,
        segment,
        count(*) as tickets
    from tickets
    where segment is not null
    group by month, segment
),

month_customers as (
    select
        month,
        count(*) as customers
    from paying_month_ends
    group by month
),

segment_customers as (
    select
        month,
        segment,
        count(*) as customers
    from paying_month_ends
    where segment is not null
    group by month, segment
),

cost_rates as (
    select
        months.month,
        segments.segment,
        coalesce({{ safe_divide('shared_costs.support_cost', 'month_tickets.tickets') }}, 0)
            + coalesce({{ safe_divide('segment_costs.support_cost', 'segment_tickets.tickets') }}, 0)
            as support_cost_per_ticket,
        coalesce({{ safe_divide('shared_costs.retention_cost', 'month_customers.customers') }}, 0)
            + coalesce({{ safe_divide('segment_costs.retention_cost', 'segment_customers.customers') }}, 0)
            as retention_cost_per_customer
    from months
    cross join segments
    left join costs as shared_costs
        on months.month = shared_costs.month
        and shared_costs.segment is null
    left join costs as segment_costs
        on months.month = segment_costs.month
        and segments.segment = segment_costs.segment
    left join month_tickets
        on months.month = month_tickets.month
    left join segment_tickets
        on months.month = segment_tickets.month
        and segments.segment = segment_tickets.segment
    left join month_customers
        on months.month = month_customers.month
    left join segment_customers
        on months.month = segment_customers.month
        and segments.segment = segment_customers.segment
),

-- One row per invoice (an order is an invoice), ticket and paying month-end of the account.
activity as (
    select
        account_id,
        revenue,
        is_paid_revenue,
        is_credit_note,
        is_order,
        is_out_of_policy as is_out_of_policy_order,
        false as is_complaint,
        0 as support_cost,
        0 as retention_cost
    from invoices

    union all

    select
        tickets.account_id,
        null,
        false,
        false,
        false,
        false,
        tickets.category = 'complaint',
        cost_rates.support_cost_per_ticket,
        0
    from tickets
    inner join cost_rates
        on tickets.month = cost_rates.month
        and tickets.segment is not distinct from cost_rates.segment
    where tickets.account_id is not null

    union all

    select
        paying_month_ends.account_id,
        null,
        false,
        false,
        false,
        false,
        false,
        0,
        cost_rates.retention_cost_per_customer
    from paying_month_ends
    inner join cost_rates
        on paying_month_ends.month = cost_rates.month
        and paying_month_ends.segment is not distinct from cost_rates.segment
),

totals as (
    select
        account_id,
        coalesce(sum(revenue) filter (where is_paid_revenue), 0)
            + coalesce(sum(revenue) filter (where is_credit_note), 0) as net_revenue_12m,
        count(*) filter (where is_order) as orders_12m,
        count(*) filter (where is_out_of_policy_order) as out_of_policy_orders_12m,
        count(*) filter (where is_complaint) as complaints_12m,
        sum(support_cost) as support_cost_12m,
        sum(retention_cost) as retention_cost_12m
    from activity
    group by account_id
),

final as (
    select
        *,
        net_revenue_12m - support_cost_12m - retention_cost_12m as client_profitability_12m
    from totals
)

select * from final
