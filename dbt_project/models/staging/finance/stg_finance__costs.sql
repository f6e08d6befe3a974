with

source as (
    {{ latest_version(source('finance', 'costs'), 'cost_id') }}
),

renamed as (
    select
        cost_id,
        cost_month,
        cost_type,
        category,
        segment,
        amount,
        currency,
        updated_at
    from source
)

select * from renamed
