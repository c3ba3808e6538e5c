{#- Typing helpers for landed strings: NULL when the text is not a value of the type. -#}

{% macro parse_utc_timestamp(expr) -%}
    {#-
        A source timestamp as a UTC `timestamp`: ISO 8601 (a date, then optionally a time
        after T or a space, with optional seconds and fraction), the same rule on every engine.
        An offset (or Z) converts to UTC; no offset means UTC already (Argilla and Prolific
        write UTC). Blank means NULL; anything else, or a date that does not exist, is NULL
        (and quarantined by the caller).
    -#}
    {%- set iso = "'[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?" -%}
    case
        when {{ regex_full_match('trim(' ~ expr ~ ')', iso ~ " *(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)'") }}
            then {{ utc_timestamp(engine_try_cast('trim(' ~ expr ~ ')', 'timestamptz')) }}
        when {{ regex_full_match('trim(' ~ expr ~ ')', iso ~ "'") }}
            then {{ engine_try_cast('trim(' ~ expr ~ ')', 'timestamp') }}
    end
{%- endmacro %}


{% macro blank_as_null(expr) -%}
    nullif(trim({{ expr }}), '')
{%- endmacro %}


{% macro try_cast_as(expr, type) -%}
    {#-
        `expr`'s text as a `type` (integer or double), NULL when it is not one, by one rule on
        every engine: a decimal number (sign, digits, optional fraction and exponent of at most
        two digits, spaces around), and for an integer a whole one within its range ("34.0" is
        34, "1.5" is NULL). Hex, digit separators, inf and nan are not numbers here.
    -#}
    {%- set text = 'trim(cast(' ~ expr ~ ' as ' ~ dbt.type_string() ~ '))' -%}
    {%- set number = "'[+-]?([0-9]{1,40}([.][0-9]{0,40})?|[.][0-9]{1,40})([eE][+-]?[0-9]{1,2})?'" -%}
    {%- set value = engine_try_cast(text, 'double') -%}
    case
        when {{ regex_full_match(text, number) }}
        {%- if type == 'integer' %}
            and {{ value }} = floor({{ value }})
            and abs({{ value }}) <= 2147483647
            then cast({{ value }} as integer)
        {%- else %}
            then {{ value }}
        {%- endif %}
    end
{%- endmacro %}
