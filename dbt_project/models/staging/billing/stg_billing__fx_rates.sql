with

source as (
    {{ latest_version(source('billing', 'fx_rates'), 'rate_date, currency', version_column=none) }}
),

renamed as (
    select
        rate_date,
        currency,
        rate
    from source
)

select * from renamed
