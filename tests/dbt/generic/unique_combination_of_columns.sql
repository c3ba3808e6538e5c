{% test unique_combination_of_columns(model, combination_of_columns) %}
{#- The columns together identify a row: no combination appears twice (the grain test). -#}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
