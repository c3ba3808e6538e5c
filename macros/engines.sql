{#-
    What the engines spell differently (docs/architecture.md, "Engines"): each macro here
    dispatches to a duckdb__, postgres__ or spark__ variant, so the models read the same on every
    engine. Only this file and the other macros' dispatch variants may use an engine's own
    functions (tests/test_portable_sql.py checks the models).
-#}

{% macro create_engine_functions() %}
    {#- on-run-start: the safe parsers PostgreSQL lacks (a failed cast is an error there). -#}
    {{ return(adapter.dispatch('create_engine_functions', 'rlhf_warehouse')()) }}
{% endmacro %}

{% macro default__create_engine_functions() %}select 1{% endmacro %}

{% macro postgres__create_engine_functions() %}
    create schema if not exists {{ target.schema }};
    {%- for name, type in [
        ('double', 'double precision'), ('integer', 'integer'), ('bigint', 'bigint'),
        ('timestamp', 'timestamp'), ('timestamptz', 'timestamptz'), ('jsonb', 'jsonb'),
    ] %}
    create or replace function {{ target.schema }}.rlhfw_try_{{ name }}(value text)
    -- Not parallel safe: an exception block is a subtransaction, which a parallel worker
    -- cannot start.
    returns {{ type }} language plpgsql immutable as $fn$
    begin
        return value::{{ type }};
    exception when others then
        return null;
    end $fn$;
    {%- endfor %}
{% endmacro %}


{% macro engine_try_cast(expr, type) %}
    {#- `expr` as `type` (double, integer, bigint, timestamp, timestamptz), NULL if it fails. -#}
    {{ return(adapter.dispatch('engine_try_cast', 'rlhf_warehouse')(expr, type)) }}
{% endmacro %}

{% macro duckdb__engine_try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro spark__engine_try_cast(expr, type) -%}
    {#- Spark's `timestamp` is an instant (timestamptz); a wall-clock one is timestamp_ntz. -#}
    {%- set spark_types = {'timestamptz': 'timestamp', 'timestamp': 'timestamp_ntz'} %}
    try_cast({{ expr }} as {{ spark_types.get(type, type) }})
{%- endmacro %}

{% macro postgres__engine_try_cast(expr, type) -%}
    {{ target.schema }}.rlhfw_try_{{ type }}({{ expr }})
{%- endmacro %}


{% macro regex_full_match(expr, pattern) %}
    {#- Whether all of `expr` matches `pattern` (a POSIX-style pattern, as a SQL string). -#}
    {{ return(adapter.dispatch('regex_full_match', 'rlhf_warehouse')(expr, pattern)) }}
{% endmacro %}

{% macro duckdb__regex_full_match(expr, pattern) -%}
    regexp_full_match({{ expr }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_full_match(expr, pattern) -%}
    ({{ expr }} ~ ('^(?:' || {{ pattern }} || ')$'))
{%- endmacro %}

{% macro spark__regex_full_match(expr, pattern) -%}
    ({{ expr }} rlike concat('^(?:', {{ pattern }}, ')$'))
{%- endmacro %}


{% macro regex_contains(expr, pattern) %}
    {#- Whether `pattern` matches somewhere in `expr`. -#}
    {{ return(adapter.dispatch('regex_contains', 'rlhf_warehouse')(expr, pattern)) }}
{% endmacro %}

{% macro duckdb__regex_contains(expr, pattern) -%}
    regexp_matches({{ expr }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_contains(expr, pattern) -%}
    ({{ expr }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_contains(expr, pattern) -%}
    ({{ expr }} rlike {{ pattern }})
{%- endmacro %}


{% macro json_object_text(expr) %}
    {#- `expr` when it is the text of a JSON object, else NULL. -#}
    {{ return(adapter.dispatch('json_object_text', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__json_object_text(expr) -%}
    case when json_valid({{ expr }}) and json_type({{ expr }}) = 'OBJECT' then {{ expr }} end
{%- endmacro %}

{% macro spark__json_object_text(expr) -%}
    case when json_object_keys({{ expr }}) is not null then {{ expr }} end
{%- endmacro %}

{% macro postgres__json_object_text(expr) -%}
    case when jsonb_typeof({{ target.schema }}.rlhfw_try_jsonb({{ expr }})) = 'object'
        then {{ expr }}
    end
{%- endmacro %}


{% macro json_array_text(expr) %}
    {#- `expr` when it is the text of a JSON array, else NULL. -#}
    {{ return(adapter.dispatch('json_array_text', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__json_array_text(expr) -%}
    case when json_valid({{ expr }}) and json_type({{ expr }}) = 'ARRAY' then {{ expr }} end
{%- endmacro %}

{% macro spark__json_array_text(expr) -%}
    case when json_array_length({{ expr }}) is not null then {{ expr }} end
{%- endmacro %}

{% macro postgres__json_array_text(expr) -%}
    case when jsonb_typeof({{ target.schema }}.rlhfw_try_jsonb({{ expr }})) = 'array'
        then {{ expr }}
    end
{%- endmacro %}


{% macro median(expr) %}
    {#- The median (the mean of the two middle values of an even count), an aggregate. -#}
    {{ return(adapter.dispatch('median', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}


{% macro quantile_cont(expr, fraction) %}
    {#- The `fraction` quantile, interpolated between the two nearest values, an aggregate. -#}
    {{ return(adapter.dispatch('quantile_cont', 'rlhf_warehouse')(expr, fraction)) }}
{% endmacro %}

{% macro duckdb__quantile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro default__quantile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}


{% macro sha256_hex(expr) %}
    {#- The sha256 of the UTF-8 bytes of `expr`, as 64 lowercase hex digits. -#}
    {{ return(adapter.dispatch('sha256_hex', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__sha256_hex(expr) -%}
    sha256({{ expr }})
{%- endmacro %}

{% macro postgres__sha256_hex(expr) -%}
    encode(sha256(convert_to({{ expr }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__sha256_hex(expr) -%}
    sha2({{ expr }}, 256)
{%- endmacro %}


{% macro hex_fraction(hex_expr, digits) %}
    {#-
        The first `digits` (at most 16) hex digits of `hex_expr` as an unsigned integer over
        16^digits: a uniform draw in [0, 1). The integer is rounded to a double first, as
        Python's int / 2**k does (tests/publish/test_publish_dataset.py).
    -#}
    {{ return(adapter.dispatch('hex_fraction', 'rlhf_warehouse')(hex_expr, digits)) }}
{% endmacro %}

{% macro duckdb__hex_fraction(hex_expr, digits) -%}
    cast('0x' || left({{ hex_expr }}, {{ digits }}) as ubigint) / 2 ** {{ 4 * digits }}
{%- endmacro %}

{% macro spark__hex_fraction(hex_expr, digits) -%}
    cast(conv(left({{ hex_expr }}, {{ digits }}), 16, 10) as double) / power(2, {{ 4 * digits }})
{%- endmacro %}

{% macro postgres__hex_fraction(hex_expr, digits) -%}
    {#- Two halves of at most 8 digits each fit a bigint; their exact sum is a numeric. -#}
    {%- set high = digits - 8 if digits > 8 else 0 -%}
    cast(
        {%- if high > 0 %}
        cast(('x' || lpad(left({{ hex_expr }}, {{ high }}), 8, '0'))::bit(32)::bigint as numeric)
        * 4294967296 +
        {%- endif %}
        ('x' || lpad(substr({{ hex_expr }}, {{ high + 1 }}, {{ digits - high }}), 8, '0'))
            ::bit(32)::bigint
        as double precision
    ) / 2 ^ {{ 4 * digits }}
{%- endmacro %}


{% macro type_double() %}
    {#- The 8-byte float type's name (`double` is no type in PostgreSQL; dbt.type_float() is a
        4-byte float on DuckDB). Text is dbt.type_string(). -#}
    {{ return(adapter.dispatch('type_double', 'rlhf_warehouse')()) }}
{% endmacro %}

{% macro default__type_double() %}double{% endmacro %}

{% macro postgres__type_double() %}double precision{% endmacro %}


{% macro is_json(expr) %}
    {#- Whether `expr` is the text of any JSON value. -#}
    {{ return(adapter.dispatch('is_json', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__is_json(expr) -%}
    json_valid({{ expr }})
{%- endmacro %}

{% macro postgres__is_json(expr) -%}
    ({{ target.schema }}.rlhfw_try_jsonb({{ expr }}) is not null)
{%- endmacro %}


{% macro utc_timestamp(expr) %}
    {#- A `timestamptz` as the plain `timestamp` of its UTC wall-clock time. -#}
    {{ return(adapter.dispatch('utc_timestamp', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__utc_timestamp(expr) -%}
    timezone('UTC', {{ expr }})
{%- endmacro %}

{% macro spark__utc_timestamp(expr) -%}
    {#- In the session's time zone, UTC (profiles.yml). -#}
    cast({{ expr }} as timestamp_ntz)
{%- endmacro %}

{% macro postgres__utc_timestamp(expr) -%}
    ({{ expr }} at time zone 'UTC')
{%- endmacro %}


{% macro is_nan(expr) %}
    {#- Whether a double is NaN. -#}
    {{ return(adapter.dispatch('is_nan', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__is_nan(expr) -%}
    isnan({{ expr }})
{%- endmacro %}

{% macro spark__is_nan(expr) -%}
    isnan({{ expr }})
{%- endmacro %}

{% macro postgres__is_nan(expr) -%}
    ({{ expr }} = cast('NaN' as double precision))
{%- endmacro %}


{% macro is_finite(expr) %}
    {#- Whether a double is neither infinite nor NaN. -#}
    {{ return(adapter.dispatch('is_finite', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__is_finite(expr) -%}
    isfinite({{ expr }})
{%- endmacro %}

{% macro spark__is_finite(expr) -%}
    (not isnan({{ expr }}) and abs({{ expr }}) < double('Infinity'))
{%- endmacro %}

{% macro postgres__is_finite(expr) -%}
    ({{ expr }} not in (
        cast('Infinity' as double precision),
        cast('-Infinity' as double precision),
        cast('NaN' as double precision)
    ))
{%- endmacro %}


{% macro row_hash(columns) %}
    {#- A cheap grouping key for several columns (equal rows, equal keys; a repeat is then
        checked on the values). -#}
    {{ return(adapter.dispatch('row_hash', 'rlhf_warehouse')(columns)) }}
{% endmacro %}

{% macro duckdb__row_hash(columns) -%}
    hash({{ columns }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns }})
{%- endmacro %}

{% macro postgres__row_hash(columns) -%}
    md5(cast(row({{ columns }}) as text))
{%- endmacro %}

{% macro spark__is_json(expr) -%}
    (
        json_object_keys({{ expr }}) is not null
        or json_array_length({{ expr }}) is not null
        or trim({{ expr }}) rlike '^(true|false|null|-?[0-9][0-9.eE+-]*|"([^"\\\\]|\\\\.)*")$'
    )
{%- endmacro %}


{% macro string_agg_sorted(expr, separator, order_by, distinct=false) %}
    {#- The texts of a group joined by `separator` in the order of `order_by` (an aggregate);
        `distinct` joins each text once (then `order_by` must be `expr`). -#}
    {{ return(adapter.dispatch('string_agg_sorted', 'rlhf_warehouse')(
        expr, separator, order_by, distinct
    )) }}
{% endmacro %}

{% macro default__string_agg_sorted(expr, separator, order_by, distinct) -%}
    string_agg({{ 'distinct ' if distinct }}{{ expr }}, {{ separator }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__string_agg_sorted(expr, separator, order_by, distinct) -%}
    listagg({{ 'distinct ' if distinct }}{{ expr }}, {{ separator }})
        within group (order by {{ order_by }})
{%- endmacro %}


{% macro ordered_sum(expr, order_by) %}
    {#- The sum of a group's values added in the order of `order_by` (an aggregate): float
        addition depends on the order, so a fixed one gives the same bits on every rebuild. -#}
    {{ return(adapter.dispatch('ordered_sum', 'rlhf_warehouse')(expr, order_by)) }}
{% endmacro %}

{% macro default__ordered_sum(expr, order_by) -%}
    sum({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__ordered_sum(expr, order_by) -%}
    case when count({{ expr }}) > 0 then aggregate(
        array_sort(collect_list(struct({{ order_by }} as k, {{ expr }} as v))),
        cast(0 as double),
        (total, item) -> total + coalesce(item.v, 0)
    ) end
{%- endmacro %}


{% macro null_counts_by_column(counts_relation, columns) %}
    {#-
        One row (column_name, null_rows) per column of `columns` from `counts_relation`, a
        one-row subquery with a count named after each column.
    -#}
    {{ return(adapter.dispatch('null_counts_by_column', 'rlhf_warehouse')(counts_relation, columns)) }}
{% endmacro %}

{% macro duckdb__null_counts_by_column(counts_relation, columns) -%}
    select
        column_name,
        null_rows
    from {{ counts_relation }} unpivot (null_rows for column_name in ({{ columns | join(', ') }}))
{%- endmacro %}

{% macro postgres__null_counts_by_column(counts_relation, columns) -%}
    {#- A lateral VALUES list: one scan of the counts, one row per column. -#}
    select
        null_counts.column_name,
        null_counts.null_rows
    from {{ counts_relation }} as counts
    cross join lateral (
        values
        {%- for column in columns %}
            ('{{ column }}', counts.{{ column }}){{ ',' if not loop.last }}
        {%- endfor %}
    ) as null_counts (column_name, null_rows)
{%- endmacro %}

{% macro spark__null_counts_by_column(counts_relation, columns) -%}
    select
        column_name,
        null_rows
    from {{ counts_relation }}
    unpivot (null_rows for column_name in ({{ columns | join(', ') }}))
{%- endmacro %}
