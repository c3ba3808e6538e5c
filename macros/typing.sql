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
