{#-
    Lists (DuckDB) and arrays (PostgreSQL, Spark): what the engines spell differently. DuckDB
    keeps its own list functions (the fast path on large studies); PostgreSQL, which has no
    lambdas, reads a list's elements with a scalar subquery over `unnest`. Lists are 1-based
    on every engine here (PostgreSQL's `array_agg` builds 1-based arrays).
-#}

{% macro list_agg(expr, order_by) %}
    {#- The aggregate list of `expr` in the order `order_by` (a comma-separated column list). -#}
    {{ return(adapter.dispatch('list_agg', 'rlhf_warehouse')(expr, order_by)) }}
{% endmacro %}

{% macro duckdb__list_agg(expr, order_by) -%}
    list({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro default__list_agg(expr, order_by) -%}
    array_agg({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro spark__list_agg(expr, order_by) -%}
    transform(
        array_sort(collect_list(struct({{ order_by }}, {{ expr }} as list_item))),
        entry -> entry.list_item
    )
{%- endmacro %}


{% macro concat_lists_agg(list_expr, order_by, element_type) %}
    {#- The lists `list_expr` of the group concatenated in the order `order_by`, an aggregate;
        `element_type` is their elements' type. -#}
    {{ return(adapter.dispatch('concat_lists_agg', 'rlhf_warehouse')(list_expr, order_by, element_type)) }}
{% endmacro %}

{% macro duckdb__concat_lists_agg(list_expr, order_by, element_type) -%}
    flatten(list({{ list_expr }} order by {{ order_by }}))
{%- endmacro %}

{% macro postgres__concat_lists_agg(list_expr, order_by, element_type) -%}
    {#- array_agg of arrays needs equal lengths: go through a JSON array of arrays (the
        jsonb_agg belongs to the outer query, its arguments being the outer query's). -#}
    array(
        select cast(list_item.value as {{ element_type }})
        from jsonb_array_elements(
            jsonb_agg(to_jsonb({{ list_expr }}) order by {{ order_by }})
        ) with ordinality as list_part (list, part_index)
        cross join lateral
            jsonb_array_elements_text(list_part.list) with ordinality
                as list_item (value, item_index)
        order by list_part.part_index, list_item.item_index
    )
{%- endmacro %}

{% macro spark__concat_lists_agg(list_expr, order_by, element_type) -%}
    flatten({{ spark__list_agg(list_expr, order_by) }})
{%- endmacro %}


{% macro list_length(list_expr) %}
    {#- How many elements the list has. -#}
    {{ return(adapter.dispatch('list_length', 'rlhf_warehouse')(list_expr)) }}
{% endmacro %}

{% macro duckdb__list_length(list_expr) -%}
    len({{ list_expr }})
{%- endmacro %}

{% macro postgres__list_length(list_expr) -%}
    cast(cardinality({{ list_expr }}) as bigint)
{%- endmacro %}

{% macro spark__list_length(list_expr) -%}
    cast(size({{ list_expr }}) as bigint)
{%- endmacro %}


{% macro list_sort(list_expr) %}
    {#- The list sorted ascending. -#}
    {{ return(adapter.dispatch('list_sort', 'rlhf_warehouse')(list_expr)) }}
{% endmacro %}

{% macro duckdb__list_sort(list_expr) -%}
    list_sort({{ list_expr }})
{%- endmacro %}

{% macro postgres__list_sort(list_expr) -%}
    array(select list_item from unnest({{ list_expr }}) as list_items (list_item) order by 1)
{%- endmacro %}

{% macro spark__list_sort(list_expr) -%}
    array_sort({{ list_expr }})
{%- endmacro %}


{% macro unnest_list(list_expr) %}
    {#- In a select list: one row per element of the list. -#}
    {{ return(adapter.dispatch('unnest_list', 'rlhf_warehouse')(list_expr)) }}
{% endmacro %}

{% macro duckdb__unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}

{% macro postgres__unnest_list(list_expr) -%}
    unnest({{ list_expr }})
{%- endmacro %}

{% macro spark__unnest_list(list_expr) -%}
    explode({{ list_expr }})
{%- endmacro %}


{% macro unnest_zipped(lists, names) %}
    {#- In a select list: one row per position of lists of equal length, the i-th elements
        side by side, as columns `names` (not every pairing of them). -#}
    {{ return(adapter.dispatch('unnest_zipped', 'rlhf_warehouse')(lists, names)) }}
{% endmacro %}

{% macro default__unnest_zipped(lists, names) -%}
    {#- DuckDB and PostgreSQL run several unnests of one select list in step. -#}
    {%- for list_expr in lists %}
    {{ unnest_list(list_expr) }} as {{ names[loop.index0] }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{% macro spark__unnest_zipped(lists, names) -%}
    inline(arrays_zip({{ lists | join(', ') }})) as ({{ names | join(', ') }})
{%- endmacro %}


{% macro unnest_range(low, high) %}
    {#- In a select list: one row per integer from `low` to `high`, both included. -#}
    {{ return(adapter.dispatch('unnest_range', 'rlhf_warehouse')(low, high)) }}
{% endmacro %}

{% macro duckdb__unnest_range(low, high) -%}
    unnest(range({{ low }}, {{ high }} + 1))
{%- endmacro %}

{% macro postgres__unnest_range(low, high) -%}
    generate_series({{ low }}, {{ high }})
{%- endmacro %}

{% macro spark__unnest_range(low, high) -%}
    explode(sequence({{ low }}, {{ high }}))
{%- endmacro %}


{% macro list_element(list_expr, index) %}
    {#- The element at the 1-based `index`. -#}
    {{ return(adapter.dispatch('list_element', 'rlhf_warehouse')(list_expr, index)) }}
{% endmacro %}

{% macro default__list_element(list_expr, index) -%}
    {{ list_expr }}[{{ index }}]
{%- endmacro %}

{% macro spark__list_element(list_expr, index) -%}
    element_at({{ list_expr }}, cast({{ index }} as int))
{%- endmacro %}


{% macro list_sum(list_expr, element=none, term=none) %}
    {#- The sum over the list's elements of `term`, an expression of `element` (the element's
        name); the sum of the elements without them. NULL for an empty list. -#}
    {{ return(adapter.dispatch('list_sum', 'rlhf_warehouse')(list_expr, element, term)) }}
{% endmacro %}

{% macro duckdb__list_sum(list_expr, element, term) -%}
    {%- if term is none -%}
    list_sum({{ list_expr }})
    {%- else -%}
    list_sum([{{ term }} for {{ element }} in {{ list_expr }}])
    {%- endif -%}
{%- endmacro %}

{% macro postgres__list_sum(list_expr, element, term) -%}
    (
        select sum({{ term if term is not none else 'list_item' }})
        from unnest({{ list_expr }}) as list_items ({{ element or 'list_item' }})
    )
{%- endmacro %}

{% macro spark__list_sum(list_expr, element, term) -%}
    aggregate(
        {{ list_expr }}, cast(null as bigint),
        (total, {{ element or 'list_item' }}) -> coalesce(total, 0)
        + {{ term if term is not none else (element or 'list_item') }}
    )
{%- endmacro %}


{% macro list_count_where(list_expr, element, condition) %}
    {#- How many elements of the list meet `condition`, an expression of `element`. -#}
    {{ return(adapter.dispatch('list_count_where', 'rlhf_warehouse')(list_expr, element, condition)) }}
{% endmacro %}

{% macro duckdb__list_count_where(list_expr, element, condition) -%}
    len(list_filter({{ list_expr }}, lambda {{ element }}: {{ condition }}))
{%- endmacro %}

{% macro postgres__list_count_where(list_expr, element, condition) -%}
    (
        select count(*)
        from unnest({{ list_expr }}) as list_items ({{ element }})
        where {{ condition }}
    )
{%- endmacro %}

{% macro spark__list_count_where(list_expr, element, condition) -%}
    size(filter({{ list_expr }}, {{ element }} -> {{ condition }}))
{%- endmacro %}


{% macro list_to_text(list_expr, separator) %}
    {#- The elements as text joined by `separator` (a SQL string). -#}
    {{ return(adapter.dispatch('list_to_text', 'rlhf_warehouse')(list_expr, separator)) }}
{% endmacro %}

{% macro duckdb__list_to_text(list_expr, separator) -%}
    array_to_string({{ list_expr }}, {{ separator }})
{%- endmacro %}

{% macro postgres__list_to_text(list_expr, separator) -%}
    array_to_string({{ list_expr }}, {{ separator }})
{%- endmacro %}

{% macro spark__list_to_text(list_expr, separator) -%}
    array_join({{ list_expr }}, {{ separator }})
{%- endmacro %}


{% macro type_hugeint() %}
    {#- An exact integer type wider than bigint, for sums of squares. -#}
    {{ return(adapter.dispatch('type_hugeint', 'rlhf_warehouse')()) }}
{% endmacro %}

{% macro duckdb__type_hugeint() %}hugeint{% endmacro %}

{% macro default__type_hugeint() %}numeric{% endmacro %}

{% macro spark__type_hugeint() %}decimal(38, 0){% endmacro %}


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
