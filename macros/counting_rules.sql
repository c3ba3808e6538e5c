{#- The counting rules shared by written responses, quality ratings and pair ratings
    (docs/architecture.md, "What counts"): one definition each. -#}

{% macro is_counted_status(status, settings='settings') %}
    {#- Whether a Prolific submission status counts (study.yml `prolific.counted_statuses`). -#}
    {{ return(adapter.dispatch('is_counted_status', 'rlhf_warehouse')(status, settings)) }}
{% endmacro %}

{% macro duckdb__is_counted_status(status, settings) -%}
    list_contains({{ settings }}.counted_statuses, {{ status }})
{%- endmacro %}

{% macro spark__is_counted_status(status, settings) -%}
    array_contains({{ settings }}.counted_statuses, {{ status }})
{%- endmacro %}

{% macro postgres__is_counted_status(status, settings) -%}
    ({{ status }} = any({{ settings }}.counted_statuses))
{%- endmacro %}


{% macro counted_statuses_list(json_expr) %}
    {#- The landed JSON array of counted statuses as a list of upper-cased, trimmed texts;
        NULL when it is not a JSON array. -#}
    {{ return(adapter.dispatch('counted_statuses_list', 'rlhf_warehouse')(json_expr)) }}
{% endmacro %}

{% macro duckdb__counted_statuses_list(json_expr) -%}
    [upper(trim(status)) for status in from_json({{ json_array_text(json_expr) }}, '["VARCHAR"]')]
{%- endmacro %}

{% macro spark__counted_statuses_list(json_expr) -%}
    transform(
        from_json({{ json_array_text(json_expr) }}, 'array<string>'), status -> upper(trim(status))
    )
{%- endmacro %}

{% macro postgres__counted_statuses_list(json_expr) -%}
    case when {{ json_array_text(json_expr) }} is not null then array(
        select upper(trim(status))
        from jsonb_array_elements_text({{ target.schema }}.rlhfw_try_jsonb({{ json_expr }}))
            as statuses (status)
    ) end
{%- endmacro %}


{% macro scale_reasons(value, scale_min, scale_max) -%}
    {#- `when` branches of a reason CASE: a value that is not a number, or not a whole number
        on the scale. -#}
    when {{ value }} is null or {{ is_nan(value) }} then 'invalid_value'
    when
        {{ value }} <> floor({{ value }})
        or {{ value }} < {{ scale_min }}
        or {{ value }} > {{ scale_max }}
        then 'out_of_range'
{%- endmacro %}


{% macro status_reasons(participant_reason, is_counted_participant) -%}
    {#- `when` branches of a reason CASE, in this order: an Argilla response that is not
        submitted; one without a status where its source says to exclude those; a participant
        who does not count (`participant_reason`, e.g. 'rater_not_counted'). Reads the columns
        `response_status` and `status_if_missing`. -#}
    when response_status is not null and response_status <> 'submitted' then 'not_submitted'
    when response_status is null and status_if_missing = 'exclude'
        then 'status_unknown_excluded'
    when not {{ is_counted_participant }} then '{{ participant_reason }}'
{%- endmacro %}


{% macro latest_first() -%}
    {#- "Latest wins" for a repeated answer or rating: `updated_at`; then the later-listed
        source in study.yml; then the record. File exports carry no timestamps, so the
        tie-breakers decide, never the extract's time or the study's folder. -#}
    updated_at desc nulls last,
    source_position desc nulls last,
    record_id desc,
    dataset desc,
    workspace desc
{%- endmacro %}


{% macro repeat_rank(partition, value) -%}
    {#- Columns ranking repeats of one item (the rows sharing `partition` that pass, or fail,
        every earlier rule) latest first: `repeat_rank`, and the winner's `value` and
        `updated_at`, which `exclusion_reason` compares. -#}
    {%- set repeats -%}
        partition by {{ partition }}, pre_duplicate_reason is null
        order by {{ latest_first() }}
    {%- endset -%}
    row_number() over ({{ repeats }}) as repeat_rank,
    first_value({{ value }}) over ({{ repeats }}) as winner_value,
    first_value(updated_at) over ({{ repeats }}) as winner_updated_at
{%- endmacro %}


{% macro exclusion_reason(value, reason) -%}
    {#- The first reason that applies: an earlier rule's, else that of a repeat that lost to
        the latest: `conflicting_<reason>` when its `value` differs from the winner's and no
        timestamp ordered them (the source's position and record id decided), else `<reason>`. -#}
    coalesce(
        pre_duplicate_reason,
        case
            when
                repeat_rank > 1
                and {{ value }} is distinct from winner_value
                and updated_at is not distinct from winner_updated_at
                then 'conflicting_{{ reason }}'
            when repeat_rank > 1 then '{{ reason }}'
        end
    )
{%- endmacro %}
