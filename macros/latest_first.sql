{#- The one definition of "latest wins" for a repeated answer or rating (docs/architecture.md):
    `updated_at`; then the later-listed source in study.yml; then the record. File exports carry
    no timestamps, so the tie-breakers decide, never the extract's time or the study's folder.
    Use inside `order by` of a window. -#}
{% macro latest_first() -%}
    updated_at desc nulls last,
    source_position desc nulls last,
    record_id desc,
    dataset desc,
    workspace desc
{%- endmacro %}


{% macro repeats_window(partition) -%}
    {#- The window of a repeated answer or rating: the items that share `partition` and pass
        (or fail) every earlier rule, latest first. -#}
    partition by {{ partition }}, pre_duplicate_reason is null
    order by {{ latest_first() }}
{%- endmacro %}


{% macro duplicate_reason(rank, value, winner_value, winner_updated_at, reason) -%}
    {#- The reason of a repeat that lost to the latest (`rank` > 1): `conflicting_<reason>` when
        its value differs from the winner's and no timestamp put them in order (the winner is
        then decided by the source's position and the record id alone), else `<reason>`. -#}
    case
        when
            {{ rank }} > 1
            and {{ value }} is distinct from {{ winner_value }}
            and updated_at is not distinct from {{ winner_updated_at }}
            then 'conflicting_{{ reason }}'
        when {{ rank }} > 1 then '{{ reason }}'
    end
{%- endmacro %}
