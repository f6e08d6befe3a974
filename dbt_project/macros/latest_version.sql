{#-
  The current state of each record of a raw entity (extracts.md): versions ordered by the version
  column, then extract date, then row position; the last version wins; a record whose last version
  is deleted is dropped. In an incremental build, only records with a version landed since the last
  build, each recomputed from all its versions.
-#}
{% macro latest_version(relation, key, version_column='updated_at', has_is_deleted=false) -%}
    select *
    from {{ relation }}
    {%- if is_incremental() %}
    where {{ key }} in ({{ changed_keys(relation, key) }})
    {%- endif %}
    qualify row_number() over (
        partition by {{ key }}
        order by {% if version_column %}{{ version_column }} desc, {% endif %}_extract_date desc, _row_number desc
    ) = 1
    {%- if has_is_deleted %}
        and not coalesce(is_deleted, false)
    {%- endif %}
{%- endmacro %}
