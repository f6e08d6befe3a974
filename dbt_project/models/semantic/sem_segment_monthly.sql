{#-
  The segment rows of cx_segment_monthly (dimension = 'segment'), shaped for the semantic layer: one
  row per month and segment. The segments partition all accounts, so summing the rows of a month
  gives the cx_churn_monthly / cx_mrr_monthly / cx_surveys_monthly / cx_tickets_monthly totals
  (singular tests assert_segment_monthly_*), and every additive figure is taken from here once.
  cx_segment_monthly publishes NPS and CSAT as scores with their response counts; the counts behind
  them are recovered exactly: a score rounded to 6 decimals times responses / 100 is within
  responses * 5e-9 of an integer, so round() gives promoters - detractors and CSAT positives.
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
        coalesce(cast(round(nps * nps_responses / 100.0) as bigint), 0) as nps_net_promoters,
        csat_responses,
        coalesce(cast(round(csat_score * csat_responses / 100.0) as bigint), 0) as csat_positive,
        tickets_created,
        tickets_first_contact_resolved
    from segments
)

select * from final
order by month, segment
