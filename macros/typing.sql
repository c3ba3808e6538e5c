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
    {#- Keep the latest landed version of each entity (raw landed rows), flagging one whose
        winning observation holds another version (`has_conflicting_versions`). -#}
    {%- set versions = version_window(
        key_columns, '_source_position', '_extracted_at', '_source_uri', '_row_sha256'
    ) %}
    select
        *,
        {{ conflicting_version('_batch_id', versions) }} as has_conflicting_versions
    from {{ relation }}
    qualify row_number() over ({{ versions }}) = 1
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


{% macro version_window(
    key_columns, source_position, extracted_at, source_uri, row_sha256, updated_at=none
) -%}
    {#-
        The version rule (docs/architecture.md, "Versions"), as a window, latest first: the
        source in the higher slot of study.yml; within one source, its latest observation
        (extract lands a value again when it changes back); within one observation, the
        source's own `updated_at` where it has one. The source uri and the row hash only make
        the order total; nothing here depends on where the study lives or when it ran. A new
        batch beats every earlier row of its source and loses or wins against the others by
        slot alone, so a refresh that lets only the new rows compete with the kept ones
        (landed_current) picks what a full build picks.
    -#}
    partition by {{ entity_partition(key_columns, row_sha256) }}
    order by
        {{ source_position }} desc nulls last,
        {{ extracted_at }} desc,
        {% if updated_at %}{{ updated_at }} desc nulls last, {% endif -%}
        {{ source_uri }} desc,
        {{ row_sha256 }} desc
{%- endmacro %}


{% macro conflicting_version(batch_id, versions, updated_at=none) -%}
    {#- Whether the next version in `versions` comes from the same observation (a batch: one
        source, one extract) with the same `updated_at`: one export or pull then holds the
        entity twice with different values (a batch holds each row once), a conflict no order
        can settle, which staging quarantines as `conflicting_versions`. The next row, not a
        count: it shares the window's one sort (a count per batch cost a second sort, ~3 s at
        100x). -#}
    coalesce(
        lead({{ batch_id }}) over ({{ versions }}) = {{ batch_id }}
        {%- if updated_at %}
        and lead({{ updated_at }}) over ({{ versions }}) is not distinct from {{ updated_at }}
        {%- endif %},
        false
    )
{%- endmacro %}
