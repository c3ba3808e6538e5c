{% test expression_is_true(model, expression, where_clause=none) %}
{#- The SQL expression holds on every row (rows where it is false or null fail). -#}
select *
from {{ model }}
where
    not coalesce({{ expression }}, false)
    {%- if where_clause %}
    and ({{ where_clause }})
    {%- endif %}
{% endtest %}
