{#-
  One row per account and reporting month in which the account had an invoice, an order, a ticket
  or MRR at the month end: its revenue (by issued_at month, converted), orders, tickets and
  complaints (by created_at month), and the support and retention costs of the month allocated to it
  (metrics.md, client_profitability_12m):
  - support costs by the account's share of the month's tickets: costs shared by all segments
    (segment NULL) over all tickets counted in the month (tickets matched to no account take their
    share, which stays unallocated, as in cx_costs_monthly.support_cost_per_ticket); costs of a
    segment over the tickets of that segment's accounts;
  - retention costs (types retention and success) equally over the month's paying customers (MRR
    > 0 at the month end): shared costs over all of them (cx_costs_monthly.crc), costs of a segment
    over the segment's paying customers.
  An account's segment is its latest CRM segment; accounts missing from the CRM bear shared costs
  only. A segment's costs in a month without any of its tickets / paying customers stay unallocated.
-#}
with

months as (
    select month
    from {{ ref('int_reporting_months') }}
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
        invoice_type,
        status,
        revenue
    from {{ ref('int_invoices_converted') }}
),

orders as (
    select
        account_id,
        month,
        is_out_of_policy
    from {{ ref('int_orders') }}
),

tickets as (
    select
        ticket_id,
        account_id,
        month,
        category
    from {{ ref('int_ticket_facts') }}
),

account_mrr as (
    select
        account_id,
        month,
        is_paying
    from {{ ref('int_account_mrr_monthly') }}
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

invoice_totals as (
    select
        account_id,
        month,
        count(*) filter (
            where invoice_type in ('subscription', 'one_time') and status = 'paid' and revenue > 0
        ) as invoices_paid,
        coalesce(sum(revenue) filter (
            where invoice_type in ('subscription', 'one_time') and status = 'paid' and revenue > 0
        ), 0) as revenue_paid,
        coalesce(sum(revenue) filter (
            where invoice_type = 'credit_note' and status not in ('void', 'draft')
        ), 0) as credit_notes_amount
    from invoices
    group by account_id, month
),

order_totals as (
    select
        account_id,
        month,
        count(*) as orders,
        count(*) filter (where is_out_of_policy) as out_of_policy_orders
    from orders
    group by account_id, month
),

ticket_totals as (
    select
        account_id,
        month,
        count(*) as tickets,
        count(*) filter (where category = 'complaint') as complaints
    from tickets
    where account_id is not null
    group by account_id, month
),

paying as (
    select
        account_id,
        month
    from account_mrr
    where is_paying
),

account_months as (
    select account_id, month from invoice_totals
    union
    select account_id, month from order_totals
    union
    select account_id, month from ticket_totals
    union
    select account_id, month from paying
),

base as (
    select
        account_months.account_id,
        account_months.month,
        accounts.segment,
        coalesce(invoice_totals.invoices_paid, 0) as invoices_paid,
        coalesce(invoice_totals.revenue_paid, 0) as revenue_paid,
        coalesce(invoice_totals.credit_notes_amount, 0) as credit_notes_amount,
        coalesce(order_totals.orders, 0) as orders,
        coalesce(order_totals.out_of_policy_orders, 0) as out_of_policy_orders,
        coalesce(ticket_totals.tickets, 0) as tickets,
        coalesce(ticket_totals.complaints, 0) as complaints,
        paying.account_id is not null as is_paying
    from account_months
    -- Months outside the reporting months are not reported.
    inner join months
        on account_months.month = months.month
    left join accounts
        on account_months.account_id = accounts.account_id
    left join invoice_totals
        on account_months.account_id = invoice_totals.account_id
        and account_months.month = invoice_totals.month
    left join order_totals
        on account_months.account_id = order_totals.account_id
        and account_months.month = order_totals.month
    left join ticket_totals
        on account_months.account_id = ticket_totals.account_id
        and account_months.month = ticket_totals.month
    left join paying
        on account_months.account_id = paying.account_id
        and account_months.month = paying.month
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
        tickets.month,
        accounts.segment,
        count(*) as tickets
    from tickets
    inner join accounts
        on tickets.account_id = accounts.account_id
    group by tickets.month, accounts.segment
),

month_paying as (
    select
        month,
        count(*) as customers
    from paying
    group by month
),

segment_paying as (
    select
        paying.month,
        accounts.segment,
        count(*) as customers
    from paying
    inner join accounts
        on paying.account_id = accounts.account_id
    group by paying.month, accounts.segment
),

allocated as (
    select
        base.*,
        coalesce(shared_costs.support_cost * {{ safe_divide('base.tickets', 'month_tickets.tickets') }}, 0)
            + coalesce(segment_costs.support_cost * {{ safe_divide('base.tickets', 'segment_tickets.tickets') }}, 0)
            as support_cost_allocated,
        case when base.is_paying then
            coalesce({{ safe_divide('shared_costs.retention_cost', 'month_paying.customers') }}, 0)
            + coalesce({{ safe_divide('segment_costs.retention_cost', 'segment_paying.customers') }}, 0)
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
    left join segment_tickets
        on base.month = segment_tickets.month
        and base.segment = segment_tickets.segment
    left join month_paying
        on base.month = month_paying.month
    left join segment_paying
        on base.month = segment_paying.month
        and base.segment = segment_paying.segment
),

final as (
    select
        account_id,
        month,
        segment,
        invoices_paid,
        revenue_paid,
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
