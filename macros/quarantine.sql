{% macro quarantined_rows(landed_table, model, entity_key, has_detail=false) %}
    {#- The rows of a staging model that failed typing, in the `quarantine` mart's shape. -#}
    select
        '{{ landed_table }}' as landed_table,
        {{ entity_key }} as entity_key,
        quarantine_reason,
        {{ 'quarantine_detail' if has_detail else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as quarantine_detail,
        batch_id,
        row_sha256
    from {{ ref(model) }}
    where quarantine_reason is not null
{% endmacro %}
