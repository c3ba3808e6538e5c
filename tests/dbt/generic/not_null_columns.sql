{% test not_null_columns(model, columns) %}
{#-
    None of `columns` is ever null: one row per column that has nulls, with how many; the
    failure count is the number of null values. The same check as a `not_null` test on each
    column, in one scan and one dbt node (a node costs a refresh ~0.05 s however small its
    query).
-#}
{{ config(fail_calc='coalesce(sum(null_rows), 0)') }}
{%- set counts -%}
(
    select
        {%- for column in columns %}
            count(*) filter (where {{ column }} is null) as {{ column }}
            {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
)
{%- endset %}
select
    column_name,
    null_rows
from ({{ null_counts_by_column(counts, columns) }}) as null_counts
where null_rows > 0
{% endtest %}
