{#-
  The months and currencies whose rate is no longer the rate their stored rows of
  int_invoices_converted were converted at (the running month's rate moves with every day of rates;
  a late rate restates its month), or that have no stored row. Read by the model's pre-hook, which
  deletes their invoices, and again by its query, which then finds no stored row for them: the
  second reading lists every month and currency of the first, whatever their rate (even a missing
  one), and may add one whose stored rows were all of invoices with a version landed, which the
  build converts again anyway.
-#}
{% macro restated_rate_months() -%}
    select
        fx.month,
        fx.currency
    from {{ ref('int_fx_rates_monthly') }} as fx
    left join (select distinct month, currency, rate from {{ this }}) as converted
        on fx.month = converted.month
        and fx.currency = converted.currency
    where converted.month is null
        or converted.rate is distinct from fx.rate
{%- endmacro %}

{#-
  Pre-hooks of int_invoices_converted: the stored invoices it converts again (a version landed, or
  their month and currency are restated) are first kept as they were, in the table
  replaced_invoices names, then deleted by row id; int_account_invoice_totals subtracts the kept
  rows, and cx_revenue_monthly restates their months. Both run in the model's transaction, where
  the row ids hold; finding the rows a second time by invoice id cost the night 0.7 s at a million
  accounts (docs/performance.md). Matched on the stored month and currency, where listing the
  invoice ids of the restated months first cost two more scans of the 22 million staged invoices.
  Two selections, the second without the first's invoices, rather than one with an OR: the months
  then skip by zone maps (the OR read the model's columns for every row, 0.95 against 0.5 s).
-#}
{% macro keep_replaced_invoices() -%}
    {%- if is_incremental() -%}
        {%- set stored_invoices -%}
            select
                rowid as converted_row_id,
                account_id,
                month,
                invoice_type,
                status,
                revenue
            from {{ this }}
        {%- endset -%}
        create or replace table {{ replaced_invoices(this) }} as
        with

        restated_rate_months as materialized (
            {{ restated_rate_months() }}
        )

        {{ stored_invoices }}
        where invoice_id in ({{ changed_keys(source('billing', 'invoices'), 'invoice_id') }})

        union all

        {{ stored_invoices }}
        where month >= (select min(month) from restated_rate_months)
            and (month, currency) in (select (month, currency) from restated_rate_months)
            and invoice_id not in ({{ changed_keys(source('billing', 'invoices'), 'invoice_id') }})
    {%- endif -%}
{%- endmacro %}

{% macro delete_replaced_invoices() -%}
    {{ delete_restated_rows('rowid in (select converted_row_id from ' ~ replaced_invoices(this) ~ ')') }}
{%- endmacro %}

{#- The rows of int_invoices_converted (`converted`) that its last incremental build replaced. -#}
{% macro replaced_invoices(converted) -%}
    {{ return(api.Relation.create(database=converted.database, schema=converted.schema, identifier=converted.identifier ~ '__replaced')) }}
{%- endmacro %}
