{#- Free text customers write (survey comments) may carry an e-mail address or a phone number:
    personal data must never reach a published table, so it is masked where the text enters. Phone
    numbers are recognized in international form (+84 912 345 678) and as (028) 3822 0000. -#}
{% macro redact_contact_details(column) -%}
regexp_replace(
    regexp_replace(
        {{ column }},
        '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}', '[email removed]', 'g'
    ),
    '(\+\d|\(\d{2,4}\))[\d ()./-]{6,}\d', '[phone removed]', 'g'
)
{%- endmacro %}
