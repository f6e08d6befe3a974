-- The benchmark floor: published tables computed straight from the extract files in one DuckDB
-- session, with no orchestration and no checks (run by bench/floor.py, which times each step and
-- fills in the `{read ...}` and `{extracts_dir}` placeholders). Inputs follow
-- shared/spec/extracts.md, definitions shared/spec/metrics.md; settings are the defaults:
-- reporting currency USD, renewal_grace_days 30, discount policy 0 -> 5, 10000 -> 10, 100000 -> 15.
-- Latest version per key: `updated_at`, then extract date, then row position; timestamps with an
-- offset are converted to UTC, naive ones are UTC already (the runner sets TimeZone = 'UTC').
-- Version windows carry few, narrow columns: moving wide rows through a window is what costs.
-- Figures are rounded as the marts round them: money, minutes and scores to 6 decimals, rates to 10.

-- @step setup
CREATE SCHEMA IF NOT EXISTS floor;

-- An ISO 8601 text as a UTC TIMESTAMP. The TIMESTAMPTZ cast applies the offset; taking its epoch
-- instead of timezone('UTC', ...) skips a time-zone conversion that costs three times the parse.
CREATE OR REPLACE TEMP MACRO utc(text) AS make_timestamp(epoch_us(CAST(text AS TIMESTAMPTZ)));

SET VARIABLE as_of_date = (
    SELECT max(CAST(parse_filename(file)[1:10] AS DATE))
    FROM glob('{extracts_dir}/*/*/*')
    WHERE regexp_full_match(parse_filename(file), '\d{4}-\d{2}-\d{2}\.(csv|csv\.gz|jsonl|parquet)')
);

-- @step invoices
CREATE OR REPLACE TEMP TABLE invoices AS
WITH typed AS (
    SELECT
        invoice_id,
        account_id,
        subscription_id,
        invoice_type,
        status,
        currency,
        CAST(subtotal AS DOUBLE) AS subtotal,
        coalesce(CAST(discount_amount AS DOUBLE), 0) AS discount_amount,
        utc(issued_at) AS issued_at,
        CAST(service_period_start AS DATE) AS service_period_start,
        CAST(service_period_end AS DATE) AS service_period_end,
        utc(updated_at) AS updated_at,
        _extract_date,
        _row
    FROM {read billing/invoices: invoice_id, account_id, subscription_id, invoice_type, status, currency,
        subtotal, discount_amount, issued_at, service_period_start, service_period_end, updated_at}
)
SELECT
    invoice_id,
    account_id,
    subscription_id,
    invoice_type,
    status,
    currency,
    subtotal,
    discount_amount,
    subtotal - discount_amount AS revenue,
    issued_at,
    date_trunc('month', issued_at)::DATE AS month,
    service_period_start,
    service_period_end
FROM typed
QUALIFY row_number() OVER (PARTITION BY invoice_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1;

-- @step months
CREATE OR REPLACE TEMP TABLE months AS
WITH bounds AS (
    SELECT
        least(min(month), min(date_trunc('month', service_period_start)))::DATE AS first_month,
        date_trunc('month', getvariable('as_of_date'))::DATE AS last_month
    FROM invoices
    WHERE invoice_type = 'subscription'
)
SELECT
    month,
    (month + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_last_day,
    -- Month-end figures are measured just before this date.
    least((month + INTERVAL 1 MONTH)::DATE, getvariable('as_of_date') + 1) AS measured_before,
    (month + INTERVAL 1 MONTH)::DATE <= getvariable('as_of_date') + 1 AS is_complete_month
FROM (
    SELECT CAST(unnest(generate_series(first_month, last_month, INTERVAL 1 MONTH)) AS DATE) AS month
    FROM bounds
);

-- @step ticket_facts
-- One row per ticket counted (metrics.md, Support): not deleted, not merged into another.
CREATE OR REPLACE TEMP TABLE ticket_facts AS
WITH tickets AS (
    SELECT ticket_id, account_id, is_complaint, is_resolved, created_at
    FROM (
        SELECT
            ticket_id,
            account_id,
            category = 'complaint' AS is_complaint,
            status IN ('solved', 'closed') AS is_resolved,
            merged_into_ticket_id IS NULL AND NOT coalesce(CAST(lower(is_deleted) AS BOOLEAN), false) AS is_counted,
            utc(created_at) AS created_at,
            utc(updated_at) AS updated_at,
            _extract_date,
            _row
        FROM {read helpdesk/tickets: ticket_id, account_id, category, status, merged_into_ticket_id, is_deleted,
            created_at, updated_at}
    )
    QUALIFY row_number() OVER (PARTITION BY ticket_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1
        AND is_counted
),

-- What an event is to the metrics, as one small code: 1 a public agent message, 2 another public
-- message, 3 a change to solved, 4 to closed, 5 to an open status (new, open, pending, on_hold),
-- 0 anything else (notes, private messages).
events AS (
    SELECT event_id, ticket_id, event_at, kind
    FROM (
        SELECT
            event_id,
            ticket_id,
            utc(created_at) AS event_at,
            CAST(CASE
                WHEN event_type = 'message' AND lower(is_public) = 'true' THEN CASE WHEN actor_type = 'agent' THEN 1 ELSE 2 END
                WHEN event_type <> 'status_change' THEN 0
                WHEN new_status = 'solved' THEN 3
                WHEN new_status = 'closed' THEN 4
                WHEN new_status IN ('new', 'open', 'pending', 'on_hold') THEN 5
                ELSE 0
            END AS UTINYINT) AS kind,
            _extract_date,
            _row
        FROM {read helpdesk/ticket_events: event_id, ticket_id, created_at, actor_type, event_type, is_public,
            new_status}
    )
    -- Immutable: a repeated event is the same event, its latest delivery wins.
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _extract_date DESC, _row DESC) = 1
        AND kind > 0
),

-- Aggregated per ticket before the join with tickets, which is far cheaper than after it.
per_ticket AS (
    SELECT
        ticket_id,
        -- The earliest public message (by time, then event_id), whoever wrote it and whenever.
        arg_min(kind, {'at': event_at, 'id': event_id}) FILTER (WHERE kind IN (1, 2)) AS opener_kind,
        min(event_at) FILTER (WHERE kind IN (1, 2)) AS opener_at,
        list(event_at) FILTER (WHERE kind = 1) AS agent_messages_at,
        min(event_at) FILTER (WHERE kind = 3) AS first_solved_at,
        min(event_at) FILTER (WHERE kind = 4) AS first_closed_at,
        min({'at': event_at, 'id': event_id}) FILTER (WHERE kind IN (3, 4)) AS first_resolving_change,
        max({'at': event_at, 'id': event_id}) FILTER (WHERE kind = 5) AS last_reopening_change
    FROM events
    GROUP BY ticket_id
),

replies AS (
    SELECT
        tickets.account_id,
        tickets.created_at,
        tickets.is_complaint,
        tickets.is_resolved,
        -- Agent messages count from created_at on; the opener is no reply, though an agent wrote it.
        list_sort(list_filter(per_ticket.agent_messages_at, lambda t: t >= tickets.created_at)) AS agent_times,
        coalesce(per_ticket.opener_kind = 1 AND per_ticket.opener_at >= tickets.created_at, false) AS opener_is_counted,
        coalesce(len(agent_times), 0) - opener_is_counted::INTEGER AS agent_replies,
        agent_times[1 + opener_is_counted::INTEGER] AS first_agent_reply_at,
        coalesce(per_ticket.first_solved_at, per_ticket.first_closed_at) AS first_resolution_at,
        -- Reopened: some change to an open status after an earlier change to solved/closed.
        coalesce(per_ticket.last_reopening_change > per_ticket.first_resolving_change, false) AS is_reopened
    FROM tickets
    LEFT JOIN per_ticket
        ON tickets.ticket_id = per_ticket.ticket_id
)

SELECT
    account_id,
    date_trunc('month', created_at)::DATE AS month,
    is_complaint,
    is_resolved,
    is_reopened,
    is_resolved AND agent_replies = 1 AND NOT is_reopened AS is_first_contact_resolved,
    (epoch(first_agent_reply_at) - epoch(created_at)) / 60 AS first_response_minutes,
    (epoch(first_resolution_at) - epoch(created_at)) / 60 AS resolution_minutes
FROM replies;

-- @step cx_tickets_monthly
CREATE OR REPLACE TABLE floor.cx_tickets_monthly AS
WITH monthly AS (
    SELECT
        month,
        count(*) AS tickets_created,
        count(*) FILTER (WHERE is_resolved) AS tickets_resolved,
        count(*) FILTER (WHERE is_first_contact_resolved) AS tickets_first_contact_resolved,
        count(*) FILTER (WHERE is_reopened) AS tickets_reopened,
        avg(first_response_minutes) AS first_response_minutes_avg,
        quantile_cont(first_response_minutes, 0.5) AS first_response_minutes_p50,
        quantile_cont(first_response_minutes, 0.9) AS first_response_minutes_p90,
        quantile_cont(resolution_minutes, 0.5) AS resolution_minutes_p50,
        count(*) FILTER (WHERE is_complaint) AS complaints
    FROM ticket_facts
    GROUP BY month
)

SELECT
    months.month,
    months.is_complete_month,
    coalesce(monthly.tickets_created, 0) AS tickets_created,
    coalesce(monthly.tickets_resolved, 0) AS tickets_resolved,
    coalesce(monthly.tickets_first_contact_resolved, 0) AS tickets_first_contact_resolved,
    round(monthly.tickets_first_contact_resolved / nullif(monthly.tickets_created, 0), 10) AS fcr_rate,
    coalesce(monthly.tickets_reopened, 0) AS tickets_reopened,
    round(monthly.tickets_reopened / nullif(monthly.tickets_resolved, 0), 10) AS reopen_rate,
    round(monthly.first_response_minutes_avg, 6) AS first_response_minutes_avg,
    round(monthly.first_response_minutes_p50, 6) AS first_response_minutes_p50,
    round(monthly.first_response_minutes_p90, 6) AS first_response_minutes_p90,
    round(monthly.resolution_minutes_p50, 6) AS resolution_minutes_p50,
    coalesce(monthly.complaints, 0) AS complaints
FROM months
LEFT JOIN monthly
    ON months.month = monthly.month
ORDER BY months.month;

-- @step fx
-- The rate of each currency in each reporting month: the latest on or before the month's last day.
CREATE OR REPLACE TEMP TABLE fx AS
WITH rates AS (
    SELECT rate_date, currency, rate
    FROM (
        SELECT
            CAST(rate_date AS DATE) AS rate_date,
            currency,
            CAST(rate AS DOUBLE) AS rate,
            _extract_date,
            _row
        FROM {read billing/fx_rates: rate_date, currency, rate}
    )
    QUALIFY row_number() OVER (PARTITION BY rate_date, currency ORDER BY _extract_date DESC, _row DESC) = 1
),

month_currencies AS (
    SELECT months.month, months.month_last_day, currencies.currency
    FROM months
    CROSS JOIN (SELECT DISTINCT currency FROM rates WHERE currency <> 'USD') AS currencies
)

SELECT month_currencies.month, month_currencies.currency, rates.rate
FROM month_currencies
ASOF LEFT JOIN rates
    ON month_currencies.currency = rates.currency
    AND month_currencies.month_last_day >= rates.rate_date
UNION ALL
SELECT month, 'USD', 1.0::DOUBLE
FROM months;

-- @step subscriptions
CREATE OR REPLACE TEMP TABLE subscriptions AS
SELECT subscription_id, account_id, billing_interval, status
FROM (
    SELECT
        subscription_id,
        account_id,
        billing_interval,
        status,
        utc(updated_at) AS updated_at,
        _extract_date,
        _row
    FROM {read billing/subscriptions: subscription_id, account_id, billing_interval, status, updated_at}
)
QUALIFY row_number() OVER (PARTITION BY subscription_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1;

-- @step subscription_mrr
-- MRR of each subscription at each month end, in the invoice currency (metrics.md, MRR).
CREATE OR REPLACE TEMP TABLE subscription_mrr AS
-- The month ends an invoice covers: the months m whose measurement instant falls in
-- (service_period_start, service_period_end], generated per invoice instead of a range join.
WITH covering AS (
    SELECT
        invoices.invoice_id,
        invoices.subscription_id,
        invoices.currency,
        invoices.revenue,
        invoices.issued_at,
        invoices.service_period_start,
        covered.month
    FROM invoices
    CROSS JOIN LATERAL (
        SELECT CAST(unnest(generate_series(
            date_trunc('month', invoices.service_period_start),
            date_trunc('month', invoices.service_period_end - 1),
            INTERVAL 1 MONTH
        )) AS DATE) AS month
    ) AS covered
    INNER JOIN months
        ON covered.month = months.month
        AND invoices.service_period_start < months.measured_before
        AND invoices.service_period_end >= months.measured_before
    WHERE invoices.invoice_type = 'subscription'
        AND invoices.status IN ('paid', 'open')
),

latest_covering AS (
    SELECT
        subscription_id,
        month,
        arg_max(
            {'currency': currency, 'revenue': revenue},
            {'start': service_period_start, 'issued_at': issued_at, 'invoice_id': invoice_id}
        ) AS invoice
    FROM covering
    GROUP BY subscription_id, month
)

SELECT
    latest_covering.subscription_id,
    subscriptions.account_id,
    latest_covering.month,
    latest_covering.invoice.currency AS currency,
    latest_covering.invoice.revenue / CASE subscriptions.billing_interval
        WHEN 'month' THEN 1
        WHEN 'quarter' THEN 3
        WHEN 'year' THEN 12
    END AS mrr_native
FROM latest_covering
INNER JOIN subscriptions
    ON latest_covering.subscription_id = subscriptions.subscription_id
WHERE subscriptions.status <> 'trialing'
    AND latest_covering.invoice.revenue > 0;

-- @step cx_revenue_monthly
CREATE OR REPLACE TABLE floor.cx_revenue_monthly AS
WITH converted AS (
    -- Invoices count in their issue month, at its rate; months before the first reporting month are not reported.
    SELECT
        invoices.month,
        invoices.invoice_type,
        invoices.status,
        invoices.revenue * fx.rate AS revenue,
        invoices.subtotal * fx.rate AS subtotal,
        invoices.discount_amount * fx.rate AS discount_amount
    FROM invoices
    INNER JOIN months
        ON invoices.month = months.month
    LEFT JOIN fx
        ON invoices.month = fx.month
        AND invoices.currency = fx.currency
),

orders AS (
    SELECT
        month,
        -- Percent at 10 decimals, the tier looked up on the subtotal at 6 (as the marts round).
        round(discount_amount / subtotal * 100, 10) AS discount_pct,
        round(subtotal, 6) AS converted_subtotal
    FROM converted
    WHERE invoice_type IN ('subscription', 'one_time')
        AND status NOT IN ('void', 'draft')
        AND subtotal > 0
),

discount_policy (min_subtotal, max_discount_pct) AS (
    VALUES (0, 5), (10000, 10), (100000, 15)
),

-- Each tier as a range of subtotals: a nested loop over three tiers, where ASOF sorted every order.
discount_tiers AS (
    SELECT
        min_subtotal,
        lead(min_subtotal) OVER (ORDER BY min_subtotal) AS next_min_subtotal,
        max_discount_pct
    FROM discount_policy
),

order_totals AS (
    SELECT
        orders.month,
        count(*) AS orders,
        -- A discount exactly at the limit is within policy; below every tier there is no limit.
        count(*) FILTER (WHERE orders.discount_pct > discount_tiers.max_discount_pct) AS out_of_policy_orders
    FROM orders
    LEFT JOIN discount_tiers
        ON orders.converted_subtotal >= discount_tiers.min_subtotal
        AND (orders.converted_subtotal < discount_tiers.next_min_subtotal OR discount_tiers.next_min_subtotal IS NULL)
    GROUP BY orders.month
),

invoice_totals AS (
    SELECT
        month,
        count(*) FILTER (
            WHERE invoice_type IN ('subscription', 'one_time') AND status = 'paid' AND revenue > 0
        ) AS invoices_paid,
        sum(revenue) FILTER (
            WHERE invoice_type IN ('subscription', 'one_time') AND status = 'paid' AND revenue > 0
        ) AS revenue_paid,
        sum(revenue) FILTER (WHERE invoice_type = 'credit_note' AND status NOT IN ('void', 'draft'))
            AS credit_notes_amount
    FROM converted
    GROUP BY month
),

subscription_totals AS (
    SELECT
        subscription_mrr.month,
        count(*) AS active_subscriptions,
        avg(subscription_mrr.mrr_native * fx.rate * 12) AS avg_contract_value
    FROM subscription_mrr
    LEFT JOIN fx
        ON subscription_mrr.month = fx.month
        AND subscription_mrr.currency = fx.currency
    GROUP BY subscription_mrr.month
),

-- Due renewals: paid/open invoices of quarterly and annual subscriptions, in the month their
-- service ends; renewed by a later paid/open invoice starting within the 30-day grace window;
-- pending (in neither count) while that window is still open at the as-of date.
subscription_invoices AS (
    SELECT invoices.invoice_id, invoices.subscription_id, invoices.service_period_start, invoices.service_period_end
    FROM invoices
    WHERE invoices.invoice_type = 'subscription'
        AND invoices.status IN ('paid', 'open')
),

due AS (
    SELECT
        subscription_invoices.subscription_id,
        subscription_invoices.service_period_end AS due_end,
        (subscription_invoices.service_period_end + 30)::DATE AS grace_ends,
        date_trunc('month', subscription_invoices.service_period_end)::DATE AS month
    FROM subscription_invoices
    INNER JOIN subscriptions
        ON subscription_invoices.subscription_id = subscriptions.subscription_id
    WHERE subscriptions.billing_interval IN ('quarter', 'year')
),

renewals AS (
    SELECT
        due.month,
        EXISTS (
            SELECT 1
            FROM subscription_invoices AS renewal
            WHERE renewal.subscription_id = due.subscription_id
                AND renewal.service_period_start >= due.due_end
                AND renewal.service_period_start < due.grace_ends
        ) AS is_renewed,
        due.grace_ends
    FROM due
),

renewal_totals AS (
    SELECT
        month,
        count(*) FILTER (WHERE is_renewed OR getvariable('as_of_date') >= grace_ends) AS renewals_due,
        count(*) FILTER (WHERE is_renewed) AS renewals_renewed
    FROM renewals
    GROUP BY month
),

joined AS (
    SELECT
        months.month,
        months.is_complete_month,
        coalesce(invoice_totals.invoices_paid, 0) AS invoices_paid,
        round(coalesce(invoice_totals.revenue_paid, 0), 6) AS revenue_paid,
        round(coalesce(invoice_totals.credit_notes_amount, 0), 6) AS credit_notes_amount,
        coalesce(subscription_totals.active_subscriptions, 0) AS active_subscriptions,
        subscription_totals.avg_contract_value,
        coalesce(renewal_totals.renewals_due, 0) AS renewals_due,
        coalesce(renewal_totals.renewals_renewed, 0) AS renewals_renewed,
        coalesce(order_totals.orders, 0) AS orders,
        coalesce(order_totals.out_of_policy_orders, 0) AS out_of_policy_orders
    FROM months
    LEFT JOIN invoice_totals ON months.month = invoice_totals.month
    LEFT JOIN subscription_totals ON months.month = subscription_totals.month
    LEFT JOIN renewal_totals ON months.month = renewal_totals.month
    LEFT JOIN order_totals ON months.month = order_totals.month
)

SELECT
    month,
    is_complete_month,
    invoices_paid,
    revenue_paid,
    credit_notes_amount,
    round(revenue_paid + credit_notes_amount, 6) AS net_revenue,
    round(revenue_paid / nullif(invoices_paid, 0), 6) AS avg_transaction_size,
    active_subscriptions,
    round(avg_contract_value, 6) AS avg_contract_value,
    renewals_due,
    renewals_renewed,
    round(renewals_renewed / nullif(renewals_due, 0), 10) AS renewal_rate,
    orders,
    out_of_policy_orders,
    round(out_of_policy_orders / nullif(orders, 0), 10) AS out_of_policy_rate
FROM joined
ORDER BY month;

-- @step account_movements
-- Per account and month with MRR at the start or the end: MRR at the end of the previous month
-- (at its rates, and restated at this month's), at the end of this month, and the movement.
CREATE OR REPLACE TEMP TABLE account_movements AS
WITH account_month_end AS (
    SELECT
        subscription_mrr.account_id,
        subscription_mrr.month,
        sum(subscription_mrr.mrr_native * own_month.rate) AS mrr,
        sum(subscription_mrr.mrr_native * next_month.rate) AS mrr_at_next_month_rates
    FROM subscription_mrr
    LEFT JOIN fx AS own_month
        ON subscription_mrr.month = own_month.month
        AND subscription_mrr.currency = own_month.currency
    LEFT JOIN fx AS next_month
        ON (subscription_mrr.month + INTERVAL 1 MONTH)::DATE = next_month.month
        AND subscription_mrr.currency = next_month.currency
    GROUP BY subscription_mrr.account_id, subscription_mrr.month
),

-- Every account_month_end row has MRR > 0, so the first one is the first paid month.
first_paid AS (
    SELECT account_id, min(month) AS first_paid_month
    FROM account_month_end
    GROUP BY account_id
),

-- This month's end and, moved one month on, the previous month's end: summed instead of a full outer join.
paired AS (
    SELECT
        account_id,
        month,
        sum(mrr_start) AS mrr_start,
        sum(mrr_start_restated) AS mrr_start_restated,
        sum(mrr_end) AS mrr_end
    FROM (
        SELECT account_id, month, 0 AS mrr_start, 0 AS mrr_start_restated, mrr AS mrr_end
        FROM account_month_end
        UNION ALL
        SELECT account_id, (month + INTERVAL 1 MONTH)::DATE, mrr, mrr_at_next_month_rates, 0
        FROM account_month_end
        WHERE month < date_trunc('month', getvariable('as_of_date'))
    )
    GROUP BY account_id, month
),

classified AS (
    SELECT
        paired.account_id,
        paired.month,
        paired.mrr_start,
        paired.mrr_start_restated - paired.mrr_start AS fx_adjustment,
        paired.mrr_start_restated,
        paired.mrr_end,
        CASE
            WHEN paired.mrr_start_restated = 0 AND paired.mrr_end > 0 AND first_paid.first_paid_month < paired.month
                THEN 'reactivation'
            WHEN paired.mrr_start_restated = 0 AND paired.mrr_end > 0 THEN 'new'
            WHEN paired.mrr_start_restated > 0 AND paired.mrr_end = 0 THEN 'churned'
            -- Compared at 6 decimals, as the pipeline does: sums of converted amounts carry float noise.
            WHEN round(paired.mrr_end, 6) > round(paired.mrr_start_restated, 6) THEN 'expansion'
            WHEN round(paired.mrr_end, 6) < round(paired.mrr_start_restated, 6) THEN 'contraction'
            ELSE 'unchanged'
        END AS movement
    FROM paired
    INNER JOIN first_paid
        ON paired.account_id = first_paid.account_id
)

SELECT
    *,
    CASE movement
        WHEN 'new' THEN mrr_end
        WHEN 'reactivation' THEN mrr_end
        WHEN 'churned' THEN mrr_start_restated
        WHEN 'expansion' THEN mrr_end - mrr_start_restated
        WHEN 'contraction' THEN mrr_start_restated - mrr_end
        ELSE 0
    END AS movement_amount
FROM classified;

-- @step cx_mrr_monthly
CREATE OR REPLACE TABLE floor.cx_mrr_monthly AS
WITH monthly AS (
    SELECT
        month,
        sum(mrr_start) AS mrr_start,
        sum(fx_adjustment) AS fx_adjustment,
        sum(movement_amount) FILTER (WHERE movement = 'new') AS mrr_new,
        sum(movement_amount) FILTER (WHERE movement = 'expansion') AS mrr_expansion,
        sum(movement_amount) FILTER (WHERE movement = 'reactivation') AS mrr_reactivation,
        sum(movement_amount) FILTER (WHERE movement = 'contraction') AS mrr_contraction,
        sum(movement_amount) FILTER (WHERE movement = 'churned') AS mrr_churned,
        sum(mrr_end) AS mrr_end,
        count(*) FILTER (WHERE mrr_end > 0) AS customers_end
    FROM account_movements
    GROUP BY month
),

filled AS (
    SELECT
        months.month,
        months.is_complete_month,
        coalesce(monthly.mrr_start, 0) AS mrr_start,
        coalesce(monthly.fx_adjustment, 0) AS fx_adjustment,
        coalesce(monthly.mrr_new, 0) AS mrr_new,
        coalesce(monthly.mrr_expansion, 0) AS mrr_expansion,
        coalesce(monthly.mrr_reactivation, 0) AS mrr_reactivation,
        coalesce(monthly.mrr_contraction, 0) AS mrr_contraction,
        coalesce(monthly.mrr_churned, 0) AS mrr_churned,
        coalesce(monthly.mrr_end, 0) AS mrr_end,
        coalesce(monthly.customers_end, 0) AS customers_end,
        -- S of metrics.md: the start MRR at this month's rates.
        coalesce(monthly.mrr_start, 0) + coalesce(monthly.fx_adjustment, 0) AS start_at_month_rates
    FROM months
    LEFT JOIN monthly
        ON months.month = monthly.month
)

SELECT
    month,
    is_complete_month,
    round(mrr_start, 6) AS mrr_start,
    round(fx_adjustment, 6) AS fx_adjustment,
    round(mrr_new, 6) AS mrr_new,
    round(mrr_expansion, 6) AS mrr_expansion,
    round(mrr_reactivation, 6) AS mrr_reactivation,
    round(mrr_contraction, 6) AS mrr_contraction,
    round(mrr_churned, 6) AS mrr_churned,
    round(mrr_end, 6) AS mrr_end,
    round((mrr_churned + mrr_contraction) / nullif(start_at_month_rates, 0), 10) AS gross_mrr_churn_rate,
    round((mrr_churned + mrr_contraction - mrr_expansion) / nullif(start_at_month_rates, 0), 10) AS net_mrr_churn_rate,
    round(1 - (mrr_churned + mrr_contraction - mrr_expansion) / nullif(start_at_month_rates, 0), 10)
        AS net_revenue_retention,
    round(1 - (mrr_churned + mrr_contraction) / nullif(start_at_month_rates, 0), 10) AS gross_revenue_retention,
    round(mrr_end / nullif(customers_end, 0), 6) AS arpa
FROM filled
ORDER BY month;

-- @step cx_churn_monthly
CREATE OR REPLACE TABLE floor.cx_churn_monthly AS
WITH monthly AS (
    SELECT
        month,
        count(*) FILTER (WHERE mrr_start > 0) AS customers_start,
        count(*) FILTER (WHERE movement = 'new') AS customers_new,
        count(*) FILTER (WHERE movement = 'reactivation') AS customers_reactivated,
        count(*) FILTER (WHERE movement = 'churned') AS customers_churned,
        count(*) FILTER (WHERE mrr_end > 0) AS customers_end
    FROM account_movements
    GROUP BY month
)

SELECT
    months.month,
    months.is_complete_month,
    coalesce(monthly.customers_start, 0) AS customers_start,
    coalesce(monthly.customers_new, 0) AS customers_new,
    coalesce(monthly.customers_reactivated, 0) AS customers_reactivated,
    coalesce(monthly.customers_churned, 0) AS customers_churned,
    coalesce(monthly.customers_end, 0) AS customers_end,
    round(monthly.customers_churned / nullif(monthly.customers_start, 0), 10) AS logo_churn_rate
FROM months
LEFT JOIN monthly
    ON months.month = monthly.month
ORDER BY months.month;

-- @step responses
CREATE OR REPLACE TEMP TABLE responses AS
SELECT account_id, survey_type, score, scale_min, scale_max, date_trunc('month', submitted_at)::DATE AS month
FROM (
    SELECT
        response_id,
        account_id,
        survey_type,
        CAST(score AS BIGINT) AS score,
        CAST(scale_min AS BIGINT) AS scale_min,
        CAST(scale_max AS BIGINT) AS scale_max,
        utc(submitted_at) AS submitted_at,
        utc(updated_at) AS updated_at,
        _extract_date,
        _row
    FROM {read crm/survey_responses: response_id, account_id, survey_type, score, scale_min, scale_max,
        submitted_at, updated_at}
)
QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1;

-- @step cx_surveys_monthly
CREATE OR REPLACE TABLE floor.cx_surveys_monthly AS
WITH monthly AS (
    SELECT
        month,
        -- NPS counts responses on the 0-10 scale only.
        count(*) FILTER (WHERE survey_type = 'nps' AND scale_min = 0 AND scale_max = 10) AS nps_responses,
        count(*) FILTER (WHERE survey_type = 'nps' AND scale_min = 0 AND scale_max = 10 AND score >= 9) AS nps_promoters,
        count(*) FILTER (WHERE survey_type = 'nps' AND scale_min = 0 AND scale_max = 10 AND score IN (7, 8))
            AS nps_passives,
        count(*) FILTER (WHERE survey_type = 'nps' AND scale_min = 0 AND scale_max = 10 AND score < 7) AS nps_detractors,
        count(*) FILTER (WHERE survey_type = 'csat') AS csat_responses,
        count(*) FILTER (WHERE survey_type = 'csat' AND score >= scale_max - 1) AS csat_positive,
        -- Multiplied before dividing, so that exact results stay exact.
        avg(100.0 * (score - scale_min) / nullif(scale_max - scale_min, 0)) FILTER (WHERE survey_type = 'csat')
            AS csat_mean_normalized,
        count(*) FILTER (WHERE survey_type = 'ces') AS ces_responses,
        avg(1 + 6.0 * (score - scale_min) / nullif(scale_max - scale_min, 0)) FILTER (WHERE survey_type = 'ces')
            AS ces_mean
    FROM responses
    GROUP BY month
)

SELECT
    months.month,
    months.is_complete_month,
    coalesce(monthly.nps_responses, 0) AS nps_responses,
    coalesce(monthly.nps_promoters, 0) AS nps_promoters,
    coalesce(monthly.nps_passives, 0) AS nps_passives,
    coalesce(monthly.nps_detractors, 0) AS nps_detractors,
    round(100.0 * (monthly.nps_promoters - monthly.nps_detractors) / nullif(monthly.nps_responses, 0), 6) AS nps,
    coalesce(monthly.csat_responses, 0) AS csat_responses,
    coalesce(monthly.csat_positive, 0) AS csat_positive,
    round(100.0 * monthly.csat_positive / nullif(monthly.csat_responses, 0), 6) AS csat_score,
    round(monthly.csat_mean_normalized, 6) AS csat_mean_normalized,
    coalesce(monthly.ces_responses, 0) AS ces_responses,
    round(monthly.ces_mean, 6) AS ces_mean
FROM months
LEFT JOIN monthly
    ON months.month = monthly.month
ORDER BY months.month;

-- @step cx_costs_monthly
CREATE OR REPLACE TABLE floor.cx_costs_monthly AS
WITH costs AS (
    SELECT cost_month, cost_type, amount, currency
    FROM (
        SELECT
            cost_id,
            CAST(cost_month AS DATE) AS cost_month,
            cost_type,
            CAST(amount AS DOUBLE) AS amount,
            currency,
            utc(updated_at) AS updated_at,
            _extract_date,
            _row
        FROM {read finance/costs: cost_id, cost_month, cost_type, amount, currency, updated_at}
    )
    QUALIFY row_number() OVER (PARTITION BY cost_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1
),

-- Costs count in their month, at its rate; months outside the reporting months are not reported.
monthly AS (
    SELECT
        costs.cost_month AS month,
        sum(costs.amount * fx.rate) FILTER (WHERE costs.cost_type = 'acquisition') AS acquisition_cost,
        sum(costs.amount * fx.rate) FILTER (WHERE costs.cost_type IN ('retention', 'success')) AS retention_cost,
        sum(costs.amount * fx.rate) FILTER (WHERE costs.cost_type = 'support') AS support_cost
    FROM costs
    INNER JOIN fx
        ON costs.cost_month = fx.month
        AND costs.currency = fx.currency
    GROUP BY costs.cost_month
),

joined AS (
    SELECT
        months.month,
        months.is_complete_month,
        coalesce(monthly.acquisition_cost, 0) AS acquisition_cost,
        coalesce(monthly.retention_cost, 0) AS retention_cost,
        coalesce(monthly.support_cost, 0) AS support_cost,
        churn.customers_new,
        churn.customers_end,
        tickets.tickets_created,
        mrr.arpa
    FROM months
    LEFT JOIN monthly ON months.month = monthly.month
    LEFT JOIN floor.cx_churn_monthly AS churn ON months.month = churn.month
    LEFT JOIN floor.cx_tickets_monthly AS tickets ON months.month = tickets.month
    LEFT JOIN floor.cx_mrr_monthly AS mrr ON months.month = mrr.month
)

SELECT
    month,
    is_complete_month,
    round(acquisition_cost, 6) AS acquisition_cost,
    round(retention_cost, 6) AS retention_cost,
    round(support_cost, 6) AS support_cost,
    round(acquisition_cost / nullif(customers_new, 0), 6) AS cac,
    round(retention_cost / nullif(customers_end, 0), 6) AS crc,
    round(support_cost / nullif(tickets_created, 0), 6) AS support_cost_per_ticket,
    round(support_cost / nullif(customers_end, 0), 6) AS support_cost_per_customer,
    arpa,
    -- Unrounded crc against the published arpa, as the mart compares them.
    retention_cost / nullif(customers_end, 0) > arpa AS crc_exceeds_arpa
FROM joined
ORDER BY month;

-- @step cx_segment_monthly
CREATE OR REPLACE TABLE floor.cx_segment_monthly AS
WITH accounts AS (
    SELECT
        account_id,
        coalesce(segment, 'unknown') AS segment,
        coalesce(region, 'unknown') AS region,
        coalesce(acquisition_channel, 'unknown') AS acquisition_channel,
        created_at::DATE AS signup_date
    FROM (
        SELECT
            account_id,
            segment,
            region,
            acquisition_channel,
            CAST(lower(is_deleted) AS BOOLEAN) AS is_deleted,
            utc(created_at) AS created_at,
            utc(updated_at) AS updated_at,
            _extract_date,
            _row
        FROM {read crm/accounts: account_id, segment, region, acquisition_channel, is_deleted, created_at, updated_at}
    )
    QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY updated_at DESC, _extract_date DESC, _row DESC) = 1
        AND NOT coalesce(is_deleted, false)
),

-- Every fact once, as (account, month, measures).
facts AS (
    SELECT
        account_id,
        month,
        1 AS movements,
        (mrr_start > 0)::INTEGER AS customers_start,
        (movement = 'new')::INTEGER AS customers_new,
        (movement = 'reactivation')::INTEGER AS customers_reactivated,
        (movement = 'churned')::INTEGER AS customers_churned,
        (mrr_end > 0)::INTEGER AS customers_end,
        mrr_start,
        fx_adjustment,
        CASE WHEN movement = 'new' THEN movement_amount END AS mrr_new,
        CASE WHEN movement = 'expansion' THEN movement_amount END AS mrr_expansion,
        CASE WHEN movement = 'reactivation' THEN movement_amount END AS mrr_reactivation,
        CASE WHEN movement = 'contraction' THEN movement_amount END AS mrr_contraction,
        CASE WHEN movement = 'churned' THEN movement_amount END AS mrr_churned,
        mrr_end,
        0 AS responses,
        0 AS nps_responses,
        0 AS nps_promoters,
        0 AS nps_detractors,
        0 AS csat_responses,
        0 AS csat_positive,
        0 AS tickets_created,
        0 AS tickets_first_contact_resolved
    FROM account_movements
    UNION ALL BY NAME
    SELECT
        account_id,
        month,
        1 AS responses,
        (survey_type = 'nps' AND scale_min = 0 AND scale_max = 10)::INTEGER AS nps_responses,
        (survey_type = 'nps' AND scale_min = 0 AND scale_max = 10 AND score >= 9)::INTEGER AS nps_promoters,
        (survey_type = 'nps' AND scale_min = 0 AND scale_max = 10 AND score < 7)::INTEGER AS nps_detractors,
        (survey_type = 'csat')::INTEGER AS csat_responses,
        (survey_type = 'csat' AND score >= scale_max - 1)::INTEGER AS csat_positive
    FROM responses
    UNION ALL BY NAME
    SELECT
        account_id,
        month,
        1 AS tickets_created,
        is_first_contact_resolved::INTEGER AS tickets_first_contact_resolved
    FROM ticket_facts
),

-- The account's latest attributes and its lifecycle stage at the month end: whole months from
-- sign-up to the last day measured ('unknown' for accounts not in the CRM and for facts outside
-- the reporting months, which still add their values to the grid).
attributed AS (
    SELECT
        facts.*,
        coalesce(accounts.segment, 'unknown') AS segment,
        coalesce(accounts.region, 'unknown') AS region,
        coalesce(accounts.acquisition_channel, 'unknown') AS acquisition_channel,
        CASE
            WHEN accounts.account_id IS NULL OR months.month IS NULL THEN 'unknown'
            WHEN months_since_signup < 3 THEN 'onboarding'
            WHEN months_since_signup < 12 THEN 'adopting'
            WHEN months_since_signup < 24 THEN 'established'
            ELSE 'loyal'
        END AS lifecycle_stage
    FROM facts
    LEFT JOIN accounts
        ON facts.account_id = accounts.account_id
    LEFT JOIN months
        ON facts.month = months.month
    CROSS JOIN LATERAL (
        SELECT (months.measured_before - 1)::DATE AS reference_date
    ) AS reference
    CROSS JOIN LATERAL (
        SELECT datediff('month', accounts.signup_date, reference.reference_date) - CASE
            WHEN (accounts.signup_date + to_months(datediff('month', accounts.signup_date, reference.reference_date)))::DATE
                > reference.reference_date THEN 1
            ELSE 0
        END AS months_since_signup
    ) AS whole_months
),

-- Aggregated by every attribute at once (few groups), then by each dimension.
combined AS (
    SELECT
        month,
        segment,
        region,
        acquisition_channel,
        lifecycle_stage,
        sum(customers_start) AS customers_start,
        sum(customers_new) AS customers_new,
        sum(customers_reactivated) AS customers_reactivated,
        sum(customers_churned) AS customers_churned,
        sum(customers_end) AS customers_end,
        sum(mrr_start) AS mrr_start,
        sum(fx_adjustment) AS fx_adjustment,
        sum(mrr_new) AS mrr_new,
        sum(mrr_expansion) AS mrr_expansion,
        sum(mrr_reactivation) AS mrr_reactivation,
        sum(mrr_contraction) AS mrr_contraction,
        sum(mrr_churned) AS mrr_churned,
        sum(mrr_end) AS mrr_end,
        sum(nps_responses) AS nps_responses,
        sum(nps_promoters) AS nps_promoters,
        sum(nps_detractors) AS nps_detractors,
        sum(csat_responses) AS csat_responses,
        sum(csat_positive) AS csat_positive,
        sum(tickets_created) AS tickets_created,
        sum(tickets_first_contact_resolved) AS tickets_first_contact_resolved
    FROM attributed
    GROUP BY ALL
),

by_dimension AS (
    SELECT
        combined.month,
        dimensions.dimension,
        CASE dimensions.dimension
            WHEN 'segment' THEN combined.segment
            WHEN 'region' THEN combined.region
            WHEN 'acquisition_channel' THEN combined.acquisition_channel
            WHEN 'lifecycle_stage' THEN combined.lifecycle_stage
        END AS dimension_value,
        sum(customers_start) AS customers_start,
        sum(customers_new) AS customers_new,
        sum(customers_reactivated) AS customers_reactivated,
        sum(customers_churned) AS customers_churned,
        sum(customers_end) AS customers_end,
        sum(mrr_start) AS mrr_start,
        sum(fx_adjustment) AS fx_adjustment,
        sum(mrr_new) AS mrr_new,
        sum(mrr_expansion) AS mrr_expansion,
        sum(mrr_reactivation) AS mrr_reactivation,
        sum(mrr_contraction) AS mrr_contraction,
        sum(mrr_churned) AS mrr_churned,
        sum(mrr_end) AS mrr_end,
        sum(nps_responses) AS nps_responses,
        sum(nps_promoters) AS nps_promoters,
        sum(nps_detractors) AS nps_detractors,
        sum(csat_responses) AS csat_responses,
        sum(csat_positive) AS csat_positive,
        sum(tickets_created) AS tickets_created,
        sum(tickets_first_contact_resolved) AS tickets_first_contact_resolved
    FROM combined
    CROSS JOIN (VALUES ('segment'), ('region'), ('acquisition_channel'), ('lifecycle_stage')) AS dimensions (dimension)
    GROUP BY ALL
),

-- The grid is dense: every reporting month x every value seen for the dimension in any month,
-- among the accounts, or a lifecycle stage.
dimension_values AS (
    SELECT dimension, dimension_value FROM by_dimension
    UNION
    SELECT dimensions.dimension, CASE dimensions.dimension
            WHEN 'segment' THEN accounts.segment
            WHEN 'region' THEN accounts.region
            WHEN 'acquisition_channel' THEN accounts.acquisition_channel
        END
    FROM accounts
    CROSS JOIN (VALUES ('segment'), ('region'), ('acquisition_channel')) AS dimensions (dimension)
    UNION
    SELECT 'lifecycle_stage', stage
    FROM (VALUES ('onboarding'), ('adopting'), ('established'), ('loyal')) AS stages (stage)
),

filled AS (
    SELECT
        months.month,
        months.is_complete_month,
        dimension_values.dimension,
        dimension_values.dimension_value,
        coalesce(by_dimension.customers_start, 0) AS customers_start,
        coalesce(by_dimension.customers_new, 0) AS customers_new,
        coalesce(by_dimension.customers_reactivated, 0) AS customers_reactivated,
        coalesce(by_dimension.customers_churned, 0) AS customers_churned,
        coalesce(by_dimension.customers_end, 0) AS customers_end,
        coalesce(by_dimension.mrr_start, 0) AS mrr_start,
        coalesce(by_dimension.fx_adjustment, 0) AS fx_adjustment,
        coalesce(by_dimension.mrr_new, 0) AS mrr_new,
        coalesce(by_dimension.mrr_expansion, 0) AS mrr_expansion,
        coalesce(by_dimension.mrr_reactivation, 0) AS mrr_reactivation,
        coalesce(by_dimension.mrr_contraction, 0) AS mrr_contraction,
        coalesce(by_dimension.mrr_churned, 0) AS mrr_churned,
        coalesce(by_dimension.mrr_end, 0) AS mrr_end,
        coalesce(by_dimension.nps_responses, 0) AS nps_responses,
        coalesce(by_dimension.nps_promoters, 0) AS nps_promoters,
        coalesce(by_dimension.nps_detractors, 0) AS nps_detractors,
        coalesce(by_dimension.csat_responses, 0) AS csat_responses,
        coalesce(by_dimension.csat_positive, 0) AS csat_positive,
        coalesce(by_dimension.tickets_created, 0) AS tickets_created,
        coalesce(by_dimension.tickets_first_contact_resolved, 0) AS tickets_first_contact_resolved
    FROM months
    CROSS JOIN dimension_values
    LEFT JOIN by_dimension
        ON months.month = by_dimension.month
        AND dimension_values.dimension = by_dimension.dimension
        AND dimension_values.dimension_value = by_dimension.dimension_value
)

SELECT
    month,
    is_complete_month,
    dimension,
    dimension_value,
    customers_start::BIGINT AS customers_start,
    customers_new::BIGINT AS customers_new,
    customers_reactivated::BIGINT AS customers_reactivated,
    customers_churned::BIGINT AS customers_churned,
    customers_end::BIGINT AS customers_end,
    round(customers_churned / nullif(customers_start, 0), 10) AS logo_churn_rate,
    round(mrr_start, 6) AS mrr_start,
    round(fx_adjustment, 6) AS fx_adjustment,
    round(mrr_new, 6) AS mrr_new,
    round(mrr_expansion, 6) AS mrr_expansion,
    round(mrr_reactivation, 6) AS mrr_reactivation,
    round(mrr_contraction, 6) AS mrr_contraction,
    round(mrr_churned, 6) AS mrr_churned,
    round(mrr_end, 6) AS mrr_end,
    round(mrr_end / nullif(customers_end, 0), 6) AS arpa,
    nps_responses::BIGINT AS nps_responses,
    nps_promoters::BIGINT AS nps_promoters,
    nps_detractors::BIGINT AS nps_detractors,
    round(100.0 * (nps_promoters - nps_detractors) / nullif(nps_responses, 0), 6) AS nps,
    csat_responses::BIGINT AS csat_responses,
    csat_positive::BIGINT AS csat_positive,
    round(100.0 * csat_positive / nullif(csat_responses, 0), 6) AS csat_score,
    tickets_created::BIGINT AS tickets_created,
    tickets_first_contact_resolved::BIGINT AS tickets_first_contact_resolved,
    round(tickets_first_contact_resolved / nullif(tickets_created, 0), 10) AS fcr_rate
FROM filled
ORDER BY month, dimension, dimension_value;
