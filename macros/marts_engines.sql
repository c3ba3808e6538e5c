{#-
    What the marts and their tests need that the engines spell differently, beside
    macros/engines.sql: lists built by an aggregate and reduced in a later CTE (DuckDB groups
    1.7M ratings twice as fast collecting a list as computing a median and a distinct
    aggregate in the grouping itself), and the unpivot of the null counts. Each dispatches
    to a duckdb__, postgres__ or spark__ variant.
-#}

{% macro unordered_list_agg(expr) %}
    {#- An aggregate: the values of `expr` in the group, as a list. -#}
    {{ return(adapter.dispatch('unordered_list_agg', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__unordered_list_agg(expr) -%}
    list({{ expr }})
{%- endmacro %}

{% macro postgres__unordered_list_agg(expr) -%}
    array_agg({{ expr }})
{%- endmacro %}

{% macro spark__unordered_list_agg(expr) -%}
    collect_list({{ expr }})
{%- endmacro %}


{% macro distinct_sorted_list_agg(expr) %}
    {#- An aggregate: the distinct non-null values of `expr` in the group, sorted ascending. -#}
    {{ return(adapter.dispatch('distinct_sorted_list_agg', 'rlhf_warehouse')(expr)) }}
{% endmacro %}

{% macro duckdb__distinct_sorted_list_agg(expr) -%}
    list_sort(list_distinct(list({{ expr }})))
{%- endmacro %}

{% macro postgres__distinct_sorted_list_agg(expr) -%}
    coalesce(
        array_agg(distinct {{ expr }} order by {{ expr }}) filter (where {{ expr }} is not null),
        cast(array[] as text [])
    )
{%- endmacro %}

{% macro spark__distinct_sorted_list_agg(expr) -%}
    array_sort(collect_set({{ expr }}))
{%- endmacro %}


{% macro list_median(list) %}
    {#- The median of a list of numbers (the mean of the two middle values of an even count). -#}
    {{ return(adapter.dispatch('list_median', 'rlhf_warehouse')(list)) }}
{% endmacro %}

{% macro duckdb__list_median(list) -%}
    list_median({{ list }})
{%- endmacro %}

{% macro postgres__list_median(list) -%}
    (
        select percentile_cont(0.5) within group (order by list_values.list_value)
        from unnest({{ list }}) as list_values (list_value)
    )
{%- endmacro %}

{% macro spark__list_median(list) -%}
    {#- element_at takes an int position (size() div 2 is a bigint). -#}
    case
        when size({{ list }}) % 2 = 1
            then cast(
                element_at(array_sort({{ list }}), cast(size({{ list }}) div 2 + 1 as int))
                as double
            )
        when size({{ list }}) > 0
            then (
                element_at(array_sort({{ list }}), cast(size({{ list }}) div 2 as int))
                + element_at(array_sort({{ list }}), cast(size({{ list }}) div 2 + 1 as int))
            ) / 2.0
    end
{%- endmacro %}


{% macro list_element_count(list) %}
    {#- The number of elements of a list, a bigint. -#}
    {{ return(adapter.dispatch('list_element_count', 'rlhf_warehouse')(list)) }}
{% endmacro %}

{% macro duckdb__list_element_count(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro postgres__list_element_count(list) -%}
    cast(cardinality({{ list }}) as bigint)
{%- endmacro %}

{% macro spark__list_element_count(list) -%}
    cast(size({{ list }}) as bigint)
{%- endmacro %}


{% macro list_join(list, separator) %}
    {#- The elements of a list of text joined by `separator` (a SQL string). -#}
    {{ return(adapter.dispatch('list_join', 'rlhf_warehouse')(list, separator)) }}
{% endmacro %}

{% macro duckdb__list_join(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro postgres__list_join(list, separator) -%}
    array_to_string({{ list }}, {{ separator }})
{%- endmacro %}

{% macro spark__list_join(list, separator) -%}
    array_join({{ list }}, {{ separator }})
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
