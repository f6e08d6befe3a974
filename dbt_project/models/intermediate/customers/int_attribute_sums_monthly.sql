{#-
  The sums of the monthly facts (MRR movements, survey responses, tickets) per month and account
  attributes (latest CRM segment, region and acquisition channel; the lifecycle stage at the month's
  reference date, its last day measured), which cx_segment_monthly fans out to its dimensions.
  Accounts missing from the CRM, tickets matched to no account and NULL attributes fall under
  'unknown'; facts of months outside the reporting months are not summed. A group holds movements,
  responses or tickets when movement_rows, response_rows or tickets_created is above 0.
  Incremental as a ledger (docs/decisions.md, Incremental builds): several rows of a group add up.
  A build deletes and recomputes the months a changed fact can reach (int_restated_fact_months), and
  for an account whose attributes changed since the last build appends, in every other month, its
  facts under the new attributes and the same facts negated under the attributes the last build
  used: the facts of those months did not change, and re-reading all 39 million facts to move a few
  hundred accounts cost most of cx_segment_monthly's build at a million accounts.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_restated_fact_months() }}"
    )
}}

with

months as (
    select
        month,
        (measured_before - 1)::date as reference_date
    from {{ ref('int_reporting_months') }}
),

{%- if is_incremental() %}

restated_months as (
    {{ restated_fact_months() }}
),
{%- endif %}

accounts as (
    select
        account_id,
        coalesce(segment, 'unknown') as segment,
        coalesce(region, 'unknown') as region,
        coalesce(acquisition_channel, 'unknown') as acquisition_channel,
        created_at::date as signup_date
    from {{ ref('stg_crm__accounts') }}
),

{%- if is_incremental() %}

-- The CRM record of each account with a version landed since, as the last build staged it: the
-- latest of its versions landed by then (none for an account new to the CRM).
previous_accounts as (
    {{ latest_version(
        '(select * from ' ~ source('crm', 'accounts') ~ ' where _loaded_at <= ' ~ last_build_landed_at() ~ ')',
        'account_id',
        has_is_deleted=true,
        incremental_keys=changed_keys(source('crm', 'accounts'), 'account_id')
    ) }}
),

-- Every account with a version landed since, with the attributes the last build used ('unknown'
-- for an account missing from the CRM then) and those this build uses.
account_versions as (
    select
        changed.account_id,
        coalesce(previous_accounts.segment, 'unknown') as previous_segment,
        coalesce(previous_accounts.region, 'unknown') as previous_region,
        coalesce(previous_accounts.acquisition_channel, 'unknown') as previous_acquisition_channel,
        previous_accounts.created_at::date as previous_signup_date,
        coalesce(accounts.segment, 'unknown') as segment,
        coalesce(accounts.region, 'unknown') as region,
        coalesce(accounts.acquisition_channel, 'unknown') as acquisition_channel,
        accounts.signup_date
    from (select distinct account_id from ({{ changed_keys(source('crm', 'accounts'), 'account_id') }})) as changed
    left join previous_accounts
        on changed.account_id = previous_accounts.account_id
    left join accounts
        on changed.account_id = accounts.account_id
),

moved_accounts as (
    select *
    from account_versions
    where previous_segment <> segment
        or previous_region <> region
        or previous_acquisition_channel <> acquisition_channel
        or previous_signup_date is distinct from signup_date
),

{%- endif %}

-- The facts are summed by a number per combination of the three CRM attributes, and the names are
-- joined to the few sums: grouping tens of millions of rows by three texts took twice as long.
attribute_combinations as (
    select
        segment,
        region,
        acquisition_channel,
        row_number() over (order by segment, region, acquisition_channel) as attributes_key
    from (
        select segment, region, acquisition_channel from accounts
        {%- if is_incremental() %}
        union
        select previous_segment, previous_region, previous_acquisition_channel from moved_accounts
        {%- endif %}
    )
    group by segment, region, acquisition_channel
),

account_attributes as (
    select
        accounts.account_id,
        accounts.signup_date,
        attribute_combinations.attributes_key
    from accounts
    inner join attribute_combinations
        on accounts.segment = attribute_combinations.segment
        and accounts.region = attribute_combinations.region
        and accounts.acquisition_channel = attribute_combinations.acquisition_channel
),
{%- if is_incremental() %}

-- A moved account's facts outside the restated months count under its new attributes (sign 1) and
-- are taken back from the previous ones (sign -1).
moved_account_attributes as (
    select
        moved_accounts.account_id,
        moved_accounts.signup_date,
        new_combinations.attributes_key,
        1 as sign
    from moved_accounts
    left join attribute_combinations as new_combinations
        on moved_accounts.segment = new_combinations.segment
        and moved_accounts.region = new_combinations.region
        and moved_accounts.acquisition_channel = new_combinations.acquisition_channel

    union all

    select
        moved_accounts.account_id,
        moved_accounts.previous_signup_date,
        previous_combinations.attributes_key,
        -1
    from moved_accounts
    left join attribute_combinations as previous_combinations
        on moved_accounts.previous_segment = previous_combinations.segment
        and moved_accounts.previous_region = previous_combinations.region
        and moved_accounts.previous_acquisition_channel = previous_combinations.acquisition_channel
),
{%- endif %}

{% set money_columns = attribute_money_columns() %}
{% set sum_columns = attribute_sum_columns() %}
{% set fact_sources = {
    'movements': ('int_account_mrr_movements', ['mrr_start', 'fx_adjustment', 'mrr_end', 'movement', 'movement_amount']),
    'responses': ('int_survey_responses_scored', ['nps_category', 'is_csat_positive']),
    'tickets': ('int_ticket_facts', ['is_first_contact_resolved']),
} %}
{%- for fact, (model_name, columns) in fact_sources.items() %}
-- Facts of the restated months under each account's attributes, and in an incremental build the
-- moved accounts' facts of the other months under their new and previous attributes.
{{ fact }}_attributed as (
    select
        facts.month,
        {%- for column in columns %}
        facts.{{ column }},
        {%- endfor %}
        account_attributes.attributes_key,
        1 as sign,
        coalesce(
            {{ lifecycle_stage(months_since_signup('account_attributes.signup_date', 'months.reference_date')) }},
            'unknown'
        ) as lifecycle_stage
    from {{ ref(model_name) }} as facts
    left join account_attributes
        on facts.account_id = account_attributes.account_id
    inner join months
        on facts.month = months.month
    {%- if is_incremental() %}
    where facts.month in (select month from restated_months)

    union all

    select
        facts.month,
        {%- for column in columns %}
        facts.{{ column }},
        {%- endfor %}
        moved_account_attributes.attributes_key,
        moved_account_attributes.sign,
        coalesce(
            {{ lifecycle_stage(months_since_signup('moved_account_attributes.signup_date', 'months.reference_date')) }},
            'unknown'
        ) as lifecycle_stage
    from {{ ref(model_name) }} as facts
    inner join moved_account_attributes
        on facts.account_id = moved_account_attributes.account_id
    inner join months
        on facts.month = months.month
    where facts.month not in (select month from restated_months)
    {%- endif %}
),
{% endfor %}

movement_sums as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        sum(sign) as movement_rows,
        sum(sign) filter (where mrr_start > 0) as customers_start,
        sum(sign) filter (where movement = 'new') as customers_new,
        sum(sign) filter (where movement = 'reactivation') as customers_reactivated,
        sum(sign) filter (where movement = 'churned') as customers_churned,
        sum(sign) filter (where mrr_end > 0) as customers_end,
        sum(sign * mrr_start) as mrr_start,
        sum(sign * fx_adjustment) as fx_adjustment,
        sum(sign * movement_amount) filter (where movement = 'new') as mrr_new,
        sum(sign * movement_amount) filter (where movement = 'expansion') as mrr_expansion,
        sum(sign * movement_amount) filter (where movement = 'reactivation') as mrr_reactivation,
        sum(sign * movement_amount) filter (where movement = 'contraction') as mrr_contraction,
        sum(sign * movement_amount) filter (where movement = 'churned') as mrr_churned,
        sum(sign * mrr_end) as mrr_end
    from movements_attributed
    group by month, attributes_key, lifecycle_stage
),

response_sums as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        sum(sign) as response_rows,
        sum(sign) filter (where nps_category is not null) as nps_responses,
        sum(sign) filter (where nps_category = 'promoter') as nps_promoters,
        sum(sign) filter (where nps_category = 'detractor') as nps_detractors,
        sum(sign) filter (where is_csat_positive is not null) as csat_responses,
        sum(sign) filter (where is_csat_positive) as csat_positive
    from responses_attributed
    group by month, attributes_key, lifecycle_stage
),

ticket_sums as (
    select
        month,
        attributes_key,
        lifecycle_stage,
        sum(sign) as tickets_created,
        sum(sign) filter (where is_first_contact_resolved) as tickets_first_contact_resolved
    from tickets_attributed
    group by month, attributes_key, lifecycle_stage
),

-- Named, and one row per month, attributes and stage: accounts missing from the CRM (no key) and
-- accounts whose attributes are all NULL share the 'unknown' names.
named_sums as (
    select
        sums.month,
        coalesce(attribute_combinations.segment, 'unknown') as segment,
        coalesce(attribute_combinations.region, 'unknown') as region,
        coalesce(attribute_combinations.acquisition_channel, 'unknown') as acquisition_channel,
        sums.lifecycle_stage,
        {%- for column in sum_columns %}
        coalesce(sum(sums.{{ column }}), 0){{ '::bigint' if column not in money_columns }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        select * from movement_sums
        union all by name
        select * from response_sums
        union all by name
        select * from ticket_sums
    ) as sums
    left join attribute_combinations
        on sums.attributes_key = attribute_combinations.attributes_key
    group by all
)

select
    *,
    {{ build_marker() }}
from named_sums
