{#-
  The columns of int_attribute_sums_monthly that add up across its rows (cx_segment_monthly sums
  them per dimension value): counts of facts, and the money among them (the rest count rows).
-#}
{% macro attribute_sum_columns() -%}
    {{ return(
        ['movement_rows', 'customers_start', 'customers_new', 'customers_reactivated', 'customers_churned', 'customers_end']
        + attribute_money_columns()
        + ['response_rows', 'nps_responses', 'nps_promoters', 'nps_detractors', 'csat_responses', 'csat_positive',
            'tickets_created', 'tickets_first_contact_resolved']
    ) }}
{%- endmacro %}

{% macro attribute_money_columns() -%}
    {{ return(['mrr_start', 'fx_adjustment', 'mrr_new', 'mrr_expansion', 'mrr_reactivation', 'mrr_contraction', 'mrr_churned', 'mrr_end']) }}
{%- endmacro %}
