with

months as (
    select
        month,
        is_complete_month
    from {{ ref('int_reporting_months') }}
),

costs as (
    select
        month,
        sum(amount) filter (where cost_type = 'acquisition') as acquisition_cost,
        sum(amount) filter (where cost_type in ('retention', 'success')) as retention_cost,
        sum(amount) filter (where cost_type = 'support') as support_cost
    from {{ ref('int_costs_monthly') }}
    group by month
),

customers as (
    select
        month,
        customers_new,
        customers_end
    from {{ ref('cx_churn_monthly') }}
),

tickets as (
    select
        month,
        tickets_created
    from {{ ref('cx_tickets_monthly') }}
),

mrr as (
    select
        month,
        arpa
    from {{ ref('cx_mrr_monthly') }}
),

joined as (
    select
        months.month,
        months.is_complete_month,
        coalesce(costs.acquisition_cost, 0) as acquisition_cost,
        coalesce(costs.retention_cost, 0) as retention_cost,
        coalesce(costs.support_cost, 0) as support_cost,
        customers.customers_new,
        customers.customers_end,
        tickets.tickets_created,
        mrr.arpa
    from months
    left join costs on months.month = costs.month
    left join customers on months.month = customers.month
    left join tickets on months.month = tickets.month
    left join mrr on months.month = mrr.month
),

per_unit as (
    select
        *,
        {{ safe_divide('acquisition_cost', 'customers_new') }} as cac,
        {{ safe_divide('retention_cost', 'customers_end') }} as crc,
        {{ safe_divide('support_cost', 'tickets_created') }} as support_cost_per_ticket,
        {{ safe_divide('support_cost', 'customers_end') }} as support_cost_per_customer
    from joined
),

final as (
    select
        month,
        is_complete_month,
        {{ round_money('acquisition_cost') }} as acquisition_cost,
        {{ round_money('retention_cost') }} as retention_cost,
        {{ round_money('support_cost') }} as support_cost,
        {{ round_money('cac') }} as cac,
        {{ round_money('crc') }} as crc,
        {{ round_money('support_cost_per_ticket') }} as support_cost_per_ticket,
        {{ round_money('support_cost_per_customer') }} as support_cost_per_customer,
        arpa,
        -- The retention effort costs more than a paying customer brings in per month.
        crc > arpa as crc_exceeds_arpa
    from per_unit
)

select * from final
order by month
