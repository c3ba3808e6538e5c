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
    {%- if memo.changes is not none %}
    -- rlhfw-memo: from upstream changes
    signed_units as (
        select
            study,
            scope,
            workspace,
            dataset,
            n_unit_scopes,
            n_unit_values,
            coder_ids,
            coded_values,
            1 as sign
        from {{ memo.changes['int_coded_values_grouped_by_unit'] }}
        where scope is not null

        union all

        select
            study,
            scope,
            workspace,
            dataset,
            n_unit_scopes,
            n_unit_values,
            coder_ids,
            coded_values,
            -1 as sign
        from {{ memo.removed['int_coded_values_grouped_by_unit'] }}
    ),
    {%- else %}
    signed_units as (
        select
            study,
            scope,
            workspace,
            dataset,
            n_unit_scopes,
            n_unit_values,
            coder_ids,
            coded_values,
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
