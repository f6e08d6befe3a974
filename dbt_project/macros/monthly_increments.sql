{#-
  The monthly models that grow with accounts x months (int_subscription_mrr_monthly,
  int_account_mrr_movements, int_account_mrr_monthly, int_account_cx_experience) are incremental
  by rows: a build deletes and recomputes the months a change can reach of the subscriptions or
  accounts whose records changed (int_changed_subscriptions, int_changed_accounts), and on a night
  that moves into a later month every month from a first month for all of them
  (first_month_restated_for_every_key, first_experience_restated_month; docs/decisions.md,
  Incremental builds).
-#}

{#-
  The first month the MRR models (int_subscription_mrr_monthly, int_account_mrr_movements,
  int_account_mrr_monthly) restate for every key: the month of the last build's as-of date once
  this build's as-of date is in a later month (that month's instant moved to its end, later months
  are new); none while the as-of date stays in its month. The instant then moved for the
  subscriptions with a period starting or ending in between only (int_changed_subscriptions), and
  a rate landed since moves the converted MRR of the accounts with subscription months in its
  currency only (int_changed_accounts): subscription MRR is in the invoice currency.
-#}
{% macro first_month_restated_for_every_key() -%}
    (
        case when {{ as_of_month_moved() }}
            then date_trunc('month', {{ previous_as_of_date() }})::date
        end
    )
{%- endmacro %}

{#- Whether this build's as-of date is in a later month than the last build's (false in a full refresh). -#}
{% macro as_of_month_moved() -%}
    coalesce(date_trunc('month', {{ previous_as_of_date() }}) < date_trunc('month', {{ as_of_date() }}), false)
{%- endmacro %}

{#- The as-of date of the last successful build, NULL in a full refresh. -#}
{% macro previous_as_of_date() -%}
    {%- set previous = build_value('previous_as_of_date') -%}
    {%- if previous is none and is_incremental() and flags.WHICH in ('run', 'build') -%}
        {{ exceptions.raise_compiler_error("var 'previous_as_of_date' is required for an incremental build of " ~ this ~ ": run through `cx-pipeline run`, or pass --full-refresh") }}
    {%- endif -%}
    cast({{ "'" ~ previous ~ "'" if previous is not none else 'null' }} as date)
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

{#-
  The rows a monthly model restates: every key's months from `first_month` (none when it is NULL),
  and each changed key's months from its first changed month (`from_month` of
  `changed_key_months_sql`). Deleted by two pre-hooks, a plain delete and a `DELETE ... USING` the
  few changed keys; read through join_changed_months and first_restated_month_of.
-#}
{% macro delete_rows_from_month(first_month) -%}
    {{ delete_restated_rows('restated.month >= ' ~ first_month) }}
{%- endmacro %}

{% macro delete_rows_of_changed_keys(changed_key_months_sql, key) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} as restated
        using ({{ changed_key_months_sql }}) as changed
        where restated.{{ key }} = changed.{{ key }}
            and restated.month >= changed.from_month
    {%- endif -%}
{%- endmacro %}

{#-
  Joins each row to the first changed month of its key, `<alias>.from_month`, NULL for an unchanged
  key, or `months_before` months earlier for rows that the month after them reads. A hash join on
  the few changed keys: at a million accounts a scalar subquery per row took 1.7 times as long in
  a query and 3 to 6 times in a delete (docs/performance.md), an EXISTS that compared the months
  inside the subquery longer still.
-#}
{% macro join_changed_months(changed_key_months_sql, key, relation_alias, alias, months_before=0) -%}
    left join (
        select
            {{ key }},
            {% if months_before -%}
            (from_month - interval {{ months_before }} month)::date as from_month
            {%- else -%}
            from_month
            {%- endif %}
        from ({{ changed_key_months_sql }})
    ) as {{ alias }}
        on {{ relation_alias }}.{{ key }} = {{ alias }}.{{ key }}
{%- endmacro %}

{#-
  The first month a row joined by join_changed_months is restated from: `first_month`, the month
  restated for every key (`months_before` months earlier, taken from the month rather than added to
  each row's month: date arithmetic on every row of a monthly table cost a second at a million
  accounts), or its key's first changed month, whichever is earlier (least() skips a NULL: NULL
  for an unchanged key on a night that restates no month for every key).
-#}
{% macro first_restated_month_of(alias, first_month, months_before=0) -%}
    {%- if months_before -%}
        {%- set first_month = '(' ~ first_month ~ ' - interval ' ~ months_before ~ ' month)::date' -%}
    {%- endif -%}
    least({{ first_month }}, {{ alias }}.from_month)
{%- endmacro %}

{#- Subscriptions whose month-end MRR may have changed, each from the first month it may have changed in. -#}
{% macro changed_subscription_months() -%}
    select subscription_id, from_month
    from {{ changed_keys_model('int_changed_subscriptions') }}
    where from_month is not null
{%- endmacro %}

{#- Accounts whose MRR may have changed, each from the first month it may have changed in. -#}
{% macro changed_mrr_account_months() -%}
    select account_id, mrr_from_month as from_month
    from {{ changed_keys_model('int_changed_accounts') }}
    where mrr_from_month is not null
{%- endmacro %}

{#- Accounts whose customer experience may have changed, each from the first month it may have changed in. -#}
{% macro changed_experience_account_months() -%}
    select account_id, experience_from_month as from_month
    from {{ changed_keys_model('int_changed_accounts') }}
    where experience_from_month is not null
{%- endmacro %}

{#-
  A model of the keys changed since the last build (models/intermediate/increments), which every
  build rebuilds first, or a staged model whose rows this build wrote are the keys changed since
  the last build. An incremental build of a model that reads it without selecting it would restate
  the keys of an earlier build, or none: it stops instead. (A unit test gives the keys as rows.)
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
  The first month int_account_cx_experience recomputes for every account: none while the as-of
  date and the running month's instant (the day after it) stay in their month, where the windows
  moved for the accounts with a ticket or answer entering or leaving the running month's window
  only (int_changed_accounts). Once either moves into a later month, the last build's as-of month
  and the month before it: that month's churn flag reads the next month's movement and is NULL
  until the next month completes, and the months after are new. Restating that month before every
  night, as the MRR models once did, wrote half a million more rows each night at a million
  accounts (docs/performance.md). Rates play no part: paying and churn do not depend on them.
-#}
{% macro first_experience_restated_month() -%}
    (
        case when {{ as_of_month_moved() }}
                or date_trunc('month', {{ previous_as_of_date() }} + 1) < date_trunc('month', {{ as_of_date() }} + 1)
            then (date_trunc('month', {{ previous_as_of_date() }}) - interval 1 month)::date
        end
    )
{%- endmacro %}

{#-
  The tickets or responses an incremental build of int_account_cx_experience reads, joined by
  join_changed_months as `changed_account`: those that can count in the window of a restated row,
  which opens at most 90 days before its month ends: from 90 days before the first month restated
  for every account or for the changed account, whichever is earlier.
-#}
{% macro in_restated_windows(relation_alias, time_column) -%}
    {{ relation_alias }}.{{ time_column }} >= {{ first_restated_month_of('changed_account', first_month=first_experience_restated_month()) }} - interval 90 day
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

{#-
  Whether the time left or entered the running month's 90-day window, [instant - 90 days, instant),
  when its instant moved from the day after the last build's as-of date to the day after this one.
-#}
{% macro between_the_two_window_bounds(time_column) -%}
    (
        ({{ time_column }} >= {{ previous_as_of_date() }} + 1 - interval 90 day
            and {{ time_column }} < {{ as_of_date() }} + 1 - interval 90 day)
        or ({{ time_column }} >= {{ previous_as_of_date() }} + 1 and {{ time_column }} < {{ as_of_date() }} + 1)
    )
{%- endmacro %}

{#-
  The months int_restated_fact_months lists, which the models summing facts by month restate for
  every account (int_attribute_sums_monthly and the monthly marts read from facts: cx_tickets_monthly,
  cx_mrr_monthly, cx_churn_monthly, cx_cohort_retention, cx_surveys_monthly), and their pre-hook.
-#}
{% macro restated_fact_months() -%}
    select month from {{ changed_keys_model('int_restated_fact_months') }}
{%- endmacro %}

{% macro delete_restated_fact_months() -%}
    {{ delete_restated_rows('restated.month in (' ~ restated_fact_months() ~ ')') }}
{%- endmacro %}

{#-
  The months cx_revenue_monthly restates: those of int_restated_fact_months, which hold every month
  whose subscription MRR a build rewrites (a changed subscription restates its account's MRR from
  the same month); the months of the converted invoices the build wrote and of those it replaced
  (a version moved them, or a rate restated them); and the months whose renewal counts are not
  those stored. int_renewals restates every due of a changed subscription, most of them as they
  were, so its counts by month (a million dues at a million accounts, summed in milliseconds) are
  compared instead of restating every month it wrote.
-#}
{% macro restated_revenue_months() -%}
    {{ restated_fact_months() }}
    union
    select month from {{ changed_keys_model('int_invoices_converted') }} where _built_at = {{ this_build_started_at() }}
    union
    select month from {{ replaced_invoices(ref('int_invoices_converted')) }}
    union
    select months.month
    from {{ ref('int_reporting_months') }} as months
    left join ({{ renewal_counts() }}) as renewals
        on months.month = renewals.month
    left join {{ this }} as stored
        on months.month = stored.month
    where stored.month is null
        or stored.renewals_due <> coalesce(renewals.renewals_due, 0)
        or stored.renewals_renewed <> coalesce(renewals.renewals_renewed, 0)
{%- endmacro %}

{#- Due and renewed renewals by due month (metrics.md, renewal_rate): a pending one counts in neither. -#}
{% macro renewal_counts() -%}
    select
        month,
        count(*) filter (where not is_pending) as renewals_due,
        count(*) filter (where is_renewed) as renewals_renewed
    from {{ ref('int_renewals') }}
    group by month
{%- endmacro %}
