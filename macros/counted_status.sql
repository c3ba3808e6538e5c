{% macro is_counted_status(status, settings='settings') -%}
    {#- Whether a Prolific submission status counts (study.yml `prolific.counted_statuses`). -#}
    list_contains({{ settings }}.counted_statuses, {{ status }})
{%- endmacro %}
