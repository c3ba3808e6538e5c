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
    {#- Keep the latest landed version of each entity (raw landed rows). -#}
    select *
    from {{ relation }}
    {{ latest_version_filter(key_columns, '_extracted_at', '_batch_id', '_row_sha256') }}
{% endmacro %}


{% macro latest_version_filter(key_columns, extracted_at, batch_id, row_sha256) %}
    {#-
        The version rule (docs/architecture.md), as a `qualify`: latest extracted_at, then
        batch, then row hash. Rows missing a key are their own entity, so none is lost.
    -#}
    {%- set missing = [] -%}
    {%- for col in key_columns -%}
        {%- do missing.append(col ~ ' is null') -%}
    {%- endfor -%}
    qualify row_number() over (
        partition by
            {{ key_columns | join(', ') }},
            case when {{ missing | join(' or ') }} then {{ row_sha256 }} end
        order by {{ extracted_at }} desc, {{ batch_id }} desc, {{ row_sha256 }} desc
    ) = 1
{% endmacro %}
