{#-
  The current state of each record of a raw entity (extracts.md): versions ordered by the version
  column, then extract date, then row position; the last version wins; a record whose last version
  is deleted is dropped. In an incremental build, only the records that `incremental_keys` selects
  (by default those with a version landed since the last build), each from all its versions.
  Most records have one version: only the records with several go through the window, which halves
  the cost at a million accounts (docs/performance.md). A full build reads the raw relation in each
  branch rather than through a shared CTE, which DuckDB would materialise whole; an incremental
  build materialises the few versions of the selected records once, where each branch scanned the
  key column of the whole relation again. Keys are never null: the contract quarantines a row
  without its key.
-#}
{% macro latest_version(relation, key, version_column='updated_at', has_is_deleted=false, incremental_keys=none, key_range=false) -%}
    {%- set versions = 'versions' if is_incremental() else relation -%}
    {%- set keys = incremental_keys or changed_keys(relation, key) -%}
    with
    {%- if is_incremental() %}

    versions as materialized (
        select *
        from {{ relation }}
        where {% if key_range %}{{ within_range_of_keys(key, keys, key) }} and {% endif %}{{ key }} in ({{ keys }})
    ),
    {%- endif %}

    keys_with_several_versions as (
        select {{ key }}
        from {{ versions }}
        group by {{ key }}
        having count(*) > 1
    ),

    latest as (
        select *
        from {{ versions }} as versions
        anti join keys_with_several_versions using ({{ key }})

        union all

        select *
        from {{ versions }} as versions
        semi join keys_with_several_versions using ({{ key }})
        qualify row_number() over (
            partition by {{ key }}
            order by {% if version_column %}{{ version_column }} desc, {% endif %}_extract_date desc, _row_number desc
        ) = 1
    )

    select *
    from latest
    {%- if has_is_deleted %}
    where not coalesce(is_deleted, false)
    {%- endif %}
{%- endmacro %}
