with

source as (
    {{ latest_version(source('billing', 'products'), 'product_id') }}
),

renamed as (
    select
        product_id,
        product_name,
        product_line,
        updated_at
    from source
)

select * from renamed
