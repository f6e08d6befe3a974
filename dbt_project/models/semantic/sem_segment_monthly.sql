{#-
  The segment rows of cx_segment_monthly (dimension = 'segment'), shaped for the semantic layer: one
  row per month and segment. The segments partition all accounts, so summing the rows of a month
  gives the cx_churn_monthly / cx_mrr_monthly / cx_surveys_monthly / cx_tickets_monthly totals
  (singular tests assert_segment_monthly_*), and every additive figure is taken from here once.
-#}
with

segments as (
    select * from {{ ref('cx_segment_monthly') }}
    where dimension = 'segment'
),

final as (
    select
        month,
        is_complete_month,
        dimension_value as segment,
        customers_start,
        customers_new,
        customers_reactivated,
        customers_churned,
        customers_end,
        mrr_start,
        fx_adjustment,
        mrr_new,
        mrr_expansion,
        mrr_reactivation,
        mrr_contraction,
        mrr_churned,
        mrr_end,
        nps_responses,
        nps_promoters - nps_detractors as nps_net_promoters,
        csat_responses,
        csat_positive,
        tickets_created,
        tickets_first_contact_resolved
    from segments
)

select * from final
order by month, segment
