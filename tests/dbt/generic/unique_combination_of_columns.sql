{% test unique_combination_of_columns(model, combination_of_columns) %}
{#-
    The grain test: the columns together identify a row. Fails on a combination that appears
    twice, or on a row where any of the columns is null (unique + not_null in one pass).
-#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having
    count(*) > 1
    {%- for column in combination_of_columns %}
    or {{ column }} is null
    {%- endfor %}
{% endtest %}
