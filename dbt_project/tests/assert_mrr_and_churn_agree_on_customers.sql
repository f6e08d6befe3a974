{#- ARPA is MRR per paying customer: both marts must count the same customers every month. -#}
{{ config(meta={'dagster': {'ref': {'name': 'cx_churn_monthly'}}}) }}
select
    mrr.month,
    mrr.mrr_end,
    mrr.arpa,
    churn.customers_end
from {{ ref('cx_mrr_monthly') }} as mrr
inner join {{ ref('cx_churn_monthly') }} as churn
    on mrr.month = churn.month
where (churn.customers_end = 0 and mrr.arpa is not null)
    or (churn.customers_end > 0 and abs(mrr.arpa * churn.customers_end - mrr.mrr_end) >= 0.01)
