{#-
  Which invoices count as revenue (metrics.md, Revenue), for every model that sums it: paid
  subscription and one-time invoices with positive revenue, and credit notes that are not void or
  draft (their revenue is <= 0). Column names of int_invoices_converted.
-#}
{% macro is_paid_revenue() -%}
    (invoice_type in ('subscription', 'one_time') and status = 'paid' and revenue > 0)
{%- endmacro %}

{% macro is_counted_credit_note() -%}
    (invoice_type = 'credit_note' and status not in ('void', 'draft'))
{%- endmacro %}
