{% macro agreement_state_units(memo) %}
    {#-
        The rows of `int_coded_values_grouped_by_unit` that the agreement state models sum, each
        with `sign`: +1 for a unit's row as it is now, -1 for its row as it was. Built in full:
        every row, +1. From upstream changes (`memo` of `memo_reusable_rows` with changes): the
        rows the grouped values' last merge wrote (+1; its tombstones carry no values) and the
        rows it deleted (-1), so the sums move by what changed. Each row counts in its scope,
        and a unit seen in one dataset counts in the overall scope too (a unit seen in several
        has an overall row of its own), as agreement defines its scopes.
    -#}
    {%- set columns = 'study, scope, workspace, dataset, n_unit_scopes, n_unit_values, '
        ~ 'coder_ids, coded_values' %}
    {%- if memo.changes is not none %}
    -- rlhfw-memo: from upstream changes
    signed_units as (
        select
            {{ columns }},
            1 as sign
        from {{ memo.changes['int_coded_values_grouped_by_unit'] }}
        where scope is not null

        union all

        select
            {{ columns }},
            -1 as sign
        from {{ memo.removed['int_coded_values_grouped_by_unit'] }}
    ),
    {%- else %}
    signed_units as (
        select
            {{ columns }},
            1 as sign
        from {{ ref('int_coded_values_grouped_by_unit') }}
    ),
    {%- endif %}

    scoped_units as (
        select
            study,
            scope,
            workspace,
            dataset,
            n_unit_values,
            coder_ids,
            coded_values,
            sign
        from signed_units

        union all

        select
            study,
            'overall' as scope,
            cast(null as varchar) as workspace,
            cast(null as varchar) as dataset,
            n_unit_values,
            coder_ids,
            coded_values,
            sign
        from signed_units
        where n_unit_scopes = 1
    )
{% endmacro %}


{% macro agreement_state_counts(memo, changes, columns, keys, count) %}
    {#-
        The rows of an agreement state model from `changes` (a relation with `columns` and
        `<count>_change`, one row per `keys`). Built in full, the changes are the counts. From
        upstream changes, each count that moved is added to its previous value (0 for a new
        key); keys that did not move are left out, so the merge keeps their rows.
    -#}
    {%- if memo.changes is not none %}
    select
        {%- for column in columns %}
        changes.{{ column }},
        {%- endfor %}
        coalesce(previous.{{ count }}, 0) + changes.{{ count }}_change as {{ count }}
    from {{ changes }} as changes
    left join {{ memo.previous }} as previous
        on
        {%- for key in keys %}
            {{ 'and ' if not loop.first }}changes.{{ key }} = previous.{{ key }}
        {%- endfor %}
    where changes.{{ count }}_change <> 0
    {%- else %}
    select
        {{ columns | join(', ') }},
        {{ count }}_change as {{ count }}
    from {{ changes }}
    {%- endif %}
{% endmacro %}
