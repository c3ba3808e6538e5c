{#- Typing helpers for landed strings: NULL when the text is not a value of the type. -#}

{% macro parse_utc_timestamp(expr) %}
    {#-
        A source timestamp as a UTC `timestamp`. Strings with an offset (or Z) are converted to
        UTC; strings without one are taken as UTC already (Argilla and Prolific write UTC).
        Blank means NULL; anything else that does not parse is NULL (and is quarantined by
        the caller).
    -#}
    {{ return(adapter.dispatch('parse_utc_timestamp', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__parse_utc_timestamp(expr) -%}
    case
        when regexp_matches(
            trim({{ expr }}), '\d:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|z|[+-]\d{2}(:?\d{2})?)$'
        )
            then timezone('UTC', try_cast(trim({{ expr }}) as timestamptz))
        else try_cast(trim({{ expr }}) as timestamp)
    end
{%- endmacro %}

{% macro default__parse_utc_timestamp(expr) -%}
    cast(nullif(trim({{ expr }}), '') as timestamp)
{%- endmacro %}


{% macro blank_as_null(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}


{% macro try_cast_as(expr, type) %}
    {#- dbt.safe_cast is a plain cast on duckdb: this one gives NULL for a bad value. -#}
    {{ return(adapter.dispatch('try_cast_as', 'rlhf_warehouse')(expr, type)) }}
{% endmacro %}

{% macro duckdb__try_cast_as(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro default__try_cast_as(expr, type) -%}
    cast({{ expr }} as {{ type }})
{%- endmacro %}


{% macro latest_version(key_columns, relation='source') %}
    {#- Keep the latest landed version of each entity (raw landed rows), with the number of
        versions the winning observation held (`n_observed_versions`). -#}
    select
        *,
        {{ observed_versions(key_columns, '_batch_id', '_row_sha256') }} as n_observed_versions
    from {{ relation }}
    {{ latest_version_filter(
        key_columns, '_source_position', '_extracted_at', '_source_uri', '_row_sha256'
    ) }}
{% endmacro %}


{% macro entity_partition(key_columns, row_sha256) -%}
    {#- Rows missing a key are their own entity, so none is lost. -#}
    {%- set missing = [] -%}
    {%- for col in key_columns -%}
        {%- do missing.append(col ~ ' is null') -%}
    {%- endfor -%}
    {{ key_columns | join(', ') }},
    case when {{ missing | join(' or ') }} then {{ row_sha256 }} end
{%- endmacro %}


{% macro latest_version_filter(
    key_columns, source_position, extracted_at, source_uri, row_sha256, updated_at=none
) %}
    {#-
        The version rule (docs/architecture.md, "Versions"), as a `qualify`: the source in the
        higher slot of study.yml; within one source, its latest observation (extract lands a
        value again when it changes back); within one observation, the source's own
        `updated_at` where it has one. The source uri and the row hash only make the order
        total; nothing here depends on where the study lives or when it ran. A new batch beats
        every earlier row of its source and loses or wins against the others by slot alone, so
        a refresh that lets only the new rows compete with the kept ones (landed_current) picks
        what a full build picks.
    -#}
    qualify row_number() over (
        partition by {{ entity_partition(key_columns, row_sha256) }}
        order by
            {{ source_position }} desc nulls last,
            {{ extracted_at }} desc,
            {% if updated_at %}{{ updated_at }} desc nulls last, {% endif -%}
            {{ source_uri }} desc,
            {{ row_sha256 }} desc
    ) = 1
{% endmacro %}


{% macro observed_versions(key_columns, batch_id, row_sha256, updated_at=none) -%}
    {#- How many different versions of the row's entity one observation (a batch: one source,
        one extract) gave, with the same `updated_at`: more than one is a conflict that no
        order can settle, and staging quarantines it as `conflicting_versions`. Distinct
        hashes, so a row read twice by a refresh is not a conflict with itself. -#}
    count(distinct {{ row_sha256 }}) over (
        partition by {{ entity_partition(key_columns, row_sha256) }}, {{ batch_id }}
        {%- if updated_at %}, {{ updated_at }}{% endif %}
    )
{%- endmacro %}
