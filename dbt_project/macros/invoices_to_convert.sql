{#-
  Invoices whose converted amounts may have changed since the last build (int_invoices_converted):
  a version of the invoice landed, or the rate of its issue month and currency is no longer the
  rate its stored row was converted at (the running month's rate moves with every day of rates; a
  late rate restates its month).
  The model's pre-hook deletes these invoices before the model reads this list again, so a month and
  currency with no stored row lists all its invoices (whatever its rate, even a missing one): the
  second reading returns every invoice the first one deleted.
-#}
{% macro invoices_to_convert() -%}
    {{ changed_keys(source('billing', 'invoices'), 'invoice_id') }}
    union
    select invoices.invoice_id
    from {{ ref('stg_billing__invoices') }} as invoices
    inner join (
        select
            fx.month,
            fx.currency
        from {{ ref('int_fx_rates_monthly') }} as fx
        left join (select distinct month, currency, rate from {{ this }}) as converted
            on fx.month = converted.month
            and fx.currency = converted.currency
        where converted.month is null
            or converted.rate is distinct from fx.rate
    ) as restated
        on date_trunc('month', invoices.issued_at)::date = restated.month
        and invoices.currency = restated.currency
{%- endmacro %}
