{#-
  The reporting months worked out straight from raw billing, for reconciliation tests that must not
  trust int_reporting_months: from the first month a subscription invoice (latest version) was
  issued or began its service through the as-of month (metrics.md, Conventions). A test that picks
  the latest invoices itself passes them (a relation with invoice_type, issued_at and
  service_period_start), so that the raw invoices are sorted once: the pick is most of its time.
-#}
{% macro raw_reporting_months(latest_invoices=none) -%}
    select cast(unnest(generate_series(
        least(
            date_trunc('month', min(issued_at)),
            date_trunc('month', min(service_period_start))
        )::date,
        date_trunc('month', {{ as_of_date() }})::date,
        interval 1 month
    )) as date) as month
    from {{ latest_invoices or '(' ~ raw_latest_invoices(['invoice_type', 'issued_at', 'service_period_start']) ~ ')' }}
        as latest_invoices
    where invoice_type = 'subscription'
{%- endmacro %}

{#- The latest version of every raw invoice, with the columns named. -#}
{% macro raw_latest_invoices(columns) -%}
    select
        {{ columns | join(',\n        ') }}
    from {{ source('billing', 'invoices') }}
    qualify row_number() over (
        partition by invoice_id
        order by updated_at desc, _extract_date desc, _row_number desc
    ) = 1
{%- endmacro %}
