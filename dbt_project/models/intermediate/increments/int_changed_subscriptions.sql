{#-
  The subscriptions whose month-end MRR an incremental build restates: a version of the
  subscription landed since the last build, or a version of one of its invoices. Every version of
  a changed invoice counts, so a subscription an invoice moved away from is restated too. Worked
  out once per build for the monthly models that read it (macro changed_subscription_ids): each
  of their pre-hooks and queries scanned the 22 million raw invoices for it at a million accounts.
  Empty in a full refresh, which restates everything.
-#}
with

changed_subscriptions as (
    {{ changed_keys(source('billing', 'subscriptions'), 'subscription_id') }}
),

subscriptions_of_changed_invoices as (
    select subscription_id
    from {{ source('billing', 'invoices') }}
    where invoice_id in ({{ changed_keys(source('billing', 'invoices'), 'invoice_id') }})
        and subscription_id is not null
),

final as (
    select subscription_id from changed_subscriptions
    union
    select subscription_id from subscriptions_of_changed_invoices
)

select * from final
