{#-
  The monthly models that grow with accounts x months (int_subscription_mrr_monthly,
  int_account_mrr_movements, int_account_mrr_monthly, int_account_cx_experience) are incremental
  by rows: a build deletes and recomputes every month of the subscriptions or accounts
  whose records changed (int_account_cx_experience: every month a change can reach), and every
  month from the first restated month for all of them (docs/decisions.md, Incremental builds).
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

{#-
  Pre-hook: the rows the increment recomputes are deleted first, inside the model's transaction,
  and the increment is appended. The predicate may name the table as `restated`.
-#}
{% macro delete_restated_rows(restated_rows_sql) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as restated where {{ restated_rows_sql }}
    {%- endif -%}
{%- endmacro %}

{#- Subscriptions whose month-end MRR may have changed (int_changed_subscriptions). -#}
{% macro changed_subscription_ids() -%}
    select subscription_id from {{ changed_keys_model('int_changed_subscriptions') }}
{%- endmacro %}

{#- Accounts whose MRR may have changed: every account a changed subscription ever belonged to. -#}
{% macro changed_mrr_account_ids() -%}
    select account_id from {{ changed_keys_model('int_changed_accounts') }} where has_mrr_change
{%- endmacro %}

{#- Accounts whose customer experience may have changed, each with the first month it may have changed in. -#}
{% macro changed_experience_account_months() -%}
    select account_id, experience_from_month as from_month from {{ changed_keys_model('int_changed_accounts') }}
{%- endmacro %}

{#-
  A model of the keys changed since the last build (models/intermediate/increments), which every
  build rebuilds first. An incremental build of a model that reads it without selecting it would
  restate the keys of an earlier build: it stops instead. (A unit test gives the keys as rows.)
-#}
{% macro changed_keys_model(name) -%}
    {%- if execute and flags.WHICH in ('run', 'build') and model.resource_type == 'model'
        and build_value('loaded_since') is not none
        and ('model.' ~ project_name ~ '.' ~ name) not in selected_resources -%}
        {{ exceptions.raise_compiler_error("an incremental build of " ~ this ~ " reads the keys changed since the last build from " ~ name ~ ", which this build does not select: select " ~ name ~ " too") }}
    {%- endif -%}
    {{ ref(name) }}
{%- endmacro %}

{#-
  The rows of int_account_cx_experience an incremental build recomputes: those of every account
  from the first restated month, or from the month before it once the first restated month is
  complete (the month before's churn flag reads it, and is NULL while it runs), and those of each
  changed account from its first changed month (macro join_changed_experience_accounts). Restating
  that month before every night, as the MRR models do, wrote half a million more rows each night at
  a million accounts (docs/performance.md).
-#}
{% macro first_experience_restated_month() -%}
    {%- set first_month = first_restated_month() -%}
    (
        {{ first_month }}
        - case when {{ first_month }} < date_trunc('month', {{ as_of_date() }} + 1) then interval 1 month else interval 0 month end
    )::date
{%- endmacro %}

{#-
  Joins each row to its account's first changed month, `changed_account.from_month`, NULL for an
  unchanged account. A hash join on the few changed accounts: at a million accounts the scalar
  subquery per row that did this took 1.7 times as long in the query and 3 to 6 times in the
  delete (docs/performance.md), an EXISTS that compared the months inside the subquery longer still.
-#}
{% macro join_changed_experience_accounts(relation_alias) -%}
    left join ({{ changed_experience_account_months() }}) as changed_account
        on {{ relation_alias }}.account_id = changed_account.account_id
{%- endmacro %}

{#-
  Pre-hooks of int_account_cx_experience: its restated rows, deleted as every account's months from
  the first restated one, then each changed account's from its first changed month.
-#}
{% macro delete_experience_rows_of_every_account() -%}
    {{ delete_restated_rows('restated.month >= ' ~ first_experience_restated_month()) }}
{%- endmacro %}

{% macro delete_experience_rows_of_changed_accounts() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as restated
        using ({{ changed_experience_account_months() }}) as changed_account
        where restated.account_id = changed_account.account_id
            and restated.month >= changed_account.from_month
    {%- endif -%}
{%- endmacro %}

{#-
  The tickets or responses an incremental build of int_account_cx_experience reads, joined by
  join_changed_experience_accounts: those that can count in the window of a restated row, which
  opens 90 days before its month ends. For every account that is from 90 days before the first
  restated month, where the window of the month before it opens; for a changed account, from 90
  days before its first changed month.
-#}
{% macro in_restated_windows(relation_alias, time_column) -%}
    ({{ relation_alias }}.{{ time_column }} >= {{ first_restated_month() }} - interval 90 day
        or {{ relation_alias }}.{{ time_column }} >= changed_account.from_month - interval 90 day)
{%- endmacro %}

{#-
  The months m whose 90-day window of int_account_cx_experience, [measured_before - 90 days,
  measured_before), can hold the time: measured_before lies in (m, m + 1 month], so the time needs
  trunc(time) <= m <= trunc(time + 89 days). Unnested, one row per month (three or four), to be
  joined on the month, an equality, before the exact window bounds are compared.
-#}
{% macro months_whose_window_holds(time_column) -%}
    unnest(generate_series(
        date_trunc('month', {{ time_column }}),
        date_trunc('month', {{ time_column }} + interval 89 day),
        interval 1 month
    ))::date
{%- endmacro %}
