{#- Free text customers write (survey comments) may carry an e-mail address or a phone number:
    personal data must never reach a published table, so it is masked where the text enters. Phone
    numbers are recognized in international form (+84 912 345 678), with an area code in brackets
    ((028) 3822 0000), in national form with the trunk prefix 0 (0912 345 678, 028 3822 0000) and in
    the North American 555-123-4567 form; dates, amounts and shorter numbers are kept. -#}
{% macro redact_contact_details(column) -%}
regexp_replace(
    regexp_replace(
        {{ column }},
        '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}', '[email removed]', 'g'
    ),
    '(\+\d|\(\d{2,4}\))[\d ()./-]{6,}\d|\b0\d{1,4}[ .-]?\d{3,4}[ .-]?\d{3,4}\b|\b\d{3}[.-]\d{3}[.-]\d{4}\b',
    '[phone removed]', 'g'
)
{%- endmacro %}
