{% macro agreement_state_units(memo) %}
    {#-
        The rows of `int_coded_values_grouped_by_unit` that the agreement state models sum, with
        `sign` (`grouped_units_signed`), as `scoped_units`: each row counts in its scope, and a
        unit seen in one dataset counts in the overall scope too (a unit seen in several has an
        overall row of its own), as agreement defines its scopes.
    -#}
    {{ grouped_units_signed(memo, 'study, scope, workspace, dataset, n_unit_scopes, '
        ~ 'n_unit_values, coder_ids, coded_values') }},

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


{% macro agreement_state_counts(memo, changes, columns, keys, counts) %}
    {#-
        The rows of a state model from `changes` (a relation with `columns` and a
        `<count>_change` per name in `counts`, one row per `keys`). Built in full, the changes
        are the counts. From upstream changes, each count that moved is added to its previous
        value (0 for a new key); keys where none moved are left out, so the merge keeps their
        rows.
    -#}
    {%- if memo.changes is not none %}
    select
        {%- for column in columns %}
        changes.{{ column }},
        {%- endfor %}
        {%- for count in counts %}
        coalesce(previous.{{ count }}, 0) + changes.{{ count }}_change as {{ count }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ changes }} as changes
    left join {{ memo.previous }} as previous
        on
        {%- for key in keys %}
            {{ 'and ' if not loop.first }}changes.{{ key }} = previous.{{ key }}
        {%- endfor %}
    where
    {%- for count in counts %}
        {{ 'or ' if not loop.first }}changes.{{ count }}_change <> 0
    {%- endfor %}
    {%- else %}
    select
        {{ columns | join(', ') }},
        {%- for count in counts %}
        {{ count }}_change as {{ count }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ changes }}
    {%- endif %}
{% endmacro %}


{% macro grouped_units_memo() %}
    {#-
        The row-level memo (`memo_reusable_rows`) of a state model summed from
        `int_coded_values_grouped_by_unit`: every other input is in its fingerprint, and its
        changes and removed rows are those of the grouped values' last merge.
    -#}
    {{ return(memo_reusable_rows(
        exclude=['int_coded_values_grouped_by_unit'],
        changes_from=['int_coded_values_grouped_by_unit']
    )) }}
{% endmacro %}


{% macro grouped_units_signed(memo, columns) %}
    {#-
        `signed_units`: rows of `int_coded_values_grouped_by_unit` (`columns`, a SQL list) with
        `sign`, +1 for a unit's row as it is now and -1 for its row as it was. Built in full:
        every row, +1. From upstream changes (`memo` of `memo_reusable_rows` with changes): the
        rows the grouped values' last merge wrote (+1; its tombstones carry no values) and the
        rows it deleted (-1), so sums over them move by what changed.
    -#}
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
    )
    {%- else %}
    signed_units as (
        select
            {{ columns }},
            1 as sign
        from {{ ref('int_coded_values_grouped_by_unit') }}
    )
    {%- endif %}
{% endmacro %}
