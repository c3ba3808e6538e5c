{#- Text identity: the normalization that makes "the same question" and "the same answer". -#}

{% macro normalize_text(expr) %}
    {#-
        Unicode NFC, trimmed, inner whitespace runs collapsed to one space, where whitespace is
        ASCII (space, \t, \n, \v, \f, \r): Python's
        re.sub(r"\s+", " ", unicodedata.normalize("NFC", s), flags=re.ASCII).strip(" \t\n\r\f\v").
        A no-break space is text, not a separator. NULL stays NULL.
    -#}
    {{ return(adapter.dispatch('normalize_text', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro default__normalize_text(expr) -%}
    trim(regexp_replace({{ nfc_text(expr) }}, '[\t\n\v\f\r ]+', ' ', 'g'))
{%- endmacro %}


{% macro spark__normalize_text(expr) -%}
    trim(regexp_replace({{ nfc_text(expr) }}, '[\\t\\n\\x0B\\f\\r ]+', ' '))
{%- endmacro %}


{% macro nfc_text(expr) %}
    {#- Unicode NFC: the same characters, composed the same way (e + U+0301 is é). -#}
    {{ return(adapter.dispatch('nfc_text', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__nfc_text(expr) -%}
    nfc_normalize({{ expr }})
{%- endmacro %}

{% macro spark__nfc_text(expr) -%}
    {#- Spark SQL has no Unicode normalization; the ICU library Spark ships has (compose
        without compatibility mappings is NFC). It fails on NULL, hence the case. -#}
    case
        when {{ expr }} is not null
            then java_method('com.ibm.icu.text.Normalizer', 'compose', {{ expr }}, false)
    end
{%- endmacro %}

{% macro postgres__nfc_text(expr) -%}
    normalize({{ expr }}, NFC)
{%- endmacro %}


{% macro short_id(expr) %}
    {#- The project's stable ids: the first 16 hex digits of md5 (docs/architecture.md). -#}
    {{ return(adapter.dispatch('short_id', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro default__short_id(expr) -%}
    left(md5({{ expr }}), 16)
{%- endmacro %}


{% macro json_text(json_expr, key_expr) %}
    {#- The text value of the key named by `key_expr` (a column) in a JSON object text. -#}
    {{ return(adapter.dispatch('json_text', 'rlhf_warehouse')(json_expr, key_expr)) }}
{% endmacro %}

{% macro duckdb__json_text(json_expr, key_expr) -%}
    ({{ json_expr }} ->> {{ key_expr }})
{%- endmacro %}

{% macro spark__json_text(json_expr, key_expr) -%}
    get_json_object({{ json_expr }}, concat('$[\'', {{ key_expr }}, '\']'))
{%- endmacro %}

{% macro postgres__json_text(json_expr, key_expr) -%}
    ({{ target.schema }}.rlhfw_try_jsonb({{ json_expr }}) ->> {{ key_expr }})
{%- endmacro %}


{% macro metadata_text(metadata_expr, key_expr) -%}
    {#- A record's metadata value under the configured key `key_expr`, trimmed; NULL when the
        study configures no key. -#}
    case
        when {{ key_expr }} is not null then trim({{ json_text(metadata_expr, key_expr) }})
    end
{%- endmacro %}
