{% test unique_combination_of_columns(model, combination_of_columns) %}
{#-
    The grain test: the columns together identify a row. Fails on a combination that appears
    twice, or on a row where any of the columns is null (unique + not_null in one pass).

    Several columns are first grouped by their hash, which is much cheaper than grouping the
    strings (2 s to 1 s on 2.5M landed responses); only rows whose hash repeats, or with a
    null, are then grouped by their values, so the result is exact.
-#}
{%- set columns = combination_of_columns | join(', ') -%}
{%- set any_null -%}
    {%- for column in combination_of_columns %}
    or {{ column }} is null
    {%- endfor %}
{%- endset %}
{%- if combination_of_columns | length > 1 %}
with repeated_hashes as (
    select {{ row_hash(columns) }} as combination_hash
    from {{ model }}
    group by 1
    having count(*) > 1
)

{% endif -%}
select
    {{ columns }},
    count(*) as n_rows
from {{ model }}
{%- if combination_of_columns | length > 1 %}
where
    {{ row_hash(columns) }} in (select repeated_hashes.combination_hash from repeated_hashes)
    {{- any_null }}
{%- endif %}
group by {{ columns }}
having
    count(*) > 1
    {{- any_null }}
{% endtest %}
