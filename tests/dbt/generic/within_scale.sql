{% test within_scale(model, column_name, min_column, max_column) %}
{#- Every non-null value is an integer within the row's own scale [min_column, max_column]. -#}
select {{ column_name }}, {{ min_column }}, {{ max_column }}
from {{ model }}
where
    {{ column_name }} is not null
    and (
        {{ column_name }} < {{ min_column }}
        or {{ column_name }} > {{ max_column }}
        or {{ column_name }} <> floor({{ column_name }})
    )
{% endtest %}
