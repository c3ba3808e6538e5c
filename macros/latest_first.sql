{#- The one definition of "latest wins" for a repeated answer or rating: `updated_at`, then the
    latest batch, then the record (file exports carry no timestamps, so the tie-breakers decide
    deterministically). Use inside `order by` of a window. -#}
{% macro latest_first() -%}
    updated_at desc nulls last,
    extracted_at desc,
    batch_id desc,
    record_id desc,
    dataset desc,
    workspace desc
{%- endmacro %}
