{#-
  The monthly models that grow with accounts x months (int_subscription_mrr_monthly,
  int_account_mrr_movements, int_account_mrr_monthly, int_account_cx_experience) are incremental
  by rows: a build deletes and recomputes every month of the subscriptions or accounts
  whose records changed, and every month from the first restated month for all of them
  (docs/decisions.md, Incremental builds).
-#}

{#-
  The first month whose figures can have moved for records that did not change: the month of the
  last build's as-of date (its month-end instant moves with the as-of date, later months did not
  exist), or an earlier month with an exchange rate landed since (a late rate).
-#}
{% macro first_restated_month() -%}
    {%- set previous = build_value('previous_as_of_date') -%}
    {%- if previous is none and is_incremental() and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error("var 'previous_as_of_date' is required for an incremental build of " ~ this ~ ": run through `cx-pipeline run`, or pass --full-refresh") }}
    {%- endif -%}
    (
        select least(
            date_trunc('month', cast({{ "'" ~ previous ~ "'" if previous is not none else 'null' }} as date)),
            min(date_trunc('month', rate_date))
        )::date
        from {{ source('billing', 'fx_rates') }}
        where _loaded_at > {{ changed_since() }}
    )
{%- endmacro %}

{#-
  The rows an incremental build recomputes: every month of the changed keys, and every key from the
  first restated month, or from `months_before` months earlier for rows that read the month after
  their own. The offset is taken from the restated month rather than added to each row's month:
  date arithmetic on every row of a monthly table cost a second at a million accounts.
-#}
{% macro restated_rows(changed_keys_sql, key_column, month_column='month', months_before=0) -%}
    {%- set first_month = first_restated_month() -%}
    {%- if months_before -%}
        {%- set first_month = '(' ~ first_month ~ ' - interval ' ~ months_before ~ ' month)::date' -%}
    {%- endif -%}
    ({{ key_column }} in ({{ changed_keys_sql }})
        or {{ month_column }} >= {{ first_month }})
{%- endmacro %}

{#- Pre-hook: the rows the increment recomputes are deleted first, inside the model's transaction, and the increment is appended. -#}
{% macro delete_restated_rows(restated_rows_sql) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ restated_rows_sql }}
    {%- endif -%}
{%- endmacro %}

{#- Subscriptions whose month-end MRR may have changed: a version of it landed, or a version of one of its invoices. -#}
{% macro changed_subscription_ids() -%}
    {{ changed_keys(source('billing', 'subscriptions'), 'subscription_id') }}
    union
    select subscription_id
    from {{ source('billing', 'invoices') }}
    where invoice_id in ({{ changed_keys(source('billing', 'invoices'), 'invoice_id') }})
        and subscription_id is not null
{%- endmacro %}

{#- Accounts whose MRR may have changed: every account a changed subscription ever belonged to. -#}
{% macro changed_mrr_account_ids() -%}
    select account_id
    from {{ source('billing', 'subscriptions') }}
    where subscription_id in ({{ changed_subscription_ids() }})
{%- endmacro %}

{#-
  Accounts whose customer experience may have changed (int_account_cx_experience): those whose MRR
  may have changed, and the account of every version of a changed ticket or survey response, so
  that an account a ticket or response moved away from is recomputed too.
-#}
{% macro changed_experience_account_ids() -%}
    {{ changed_mrr_account_ids() }}
    union
    select account_id
    from {{ source('helpdesk', 'tickets') }}
    where ticket_id in ({{ changed_ticket_ids() }})
    union
    select account_id
    from {{ source('crm', 'survey_responses') }}
    where response_id in ({{ changed_keys(source('crm', 'survey_responses'), 'response_id') }})
{%- endmacro %}

{#-
  The tickets or responses an incremental build of int_account_cx_experience reads: those of the
  changed accounts, and any in the 90-day window of a restated month. The earliest is the window
  of the month before the first restated month, which ends when the first restated month begins.
-#}
{% macro in_restated_windows(changed_account_ids_sql, account_column, time_column) -%}
    ({{ account_column }} in ({{ changed_account_ids_sql }})
        or {{ time_column }} >= {{ first_restated_month() }} - interval 90 day)
{%- endmacro %}
