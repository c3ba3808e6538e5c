{#-
    How many pairable values (in units with two or more values) each coder has, per study and
    scope: agreement's coder count (macros/krippendorff.sql) is the number of these rows.

    Row-level memo (macros/memo.sql, `memo_merge`), as `int_value_profiles_counted_by_scope`:
    a refresh adds the changed units' coders and subtracts those of their old rows; a coder
    whose count falls to 0 leaves (a tombstone row with `n_values = 0`).
-#}
{%- set memo = memo_reusable_rows(
    exclude=['int_coded_values_grouped_by_unit'],
    changes_from=['int_coded_values_grouped_by_unit']
) -%}
{%- if memo.changes is not none %}{{ memo_delta_marker(memo) }}{% endif %}

with

{{ agreement_state_units(memo) }},

coder_values as (
    select
        study,
        scope,
        unnest(coder_ids) as coder_id,
        sign
    from scoped_units
    where n_unit_values >= 2
),

coder_changes as (
    select
        study,
        scope,
        coder_id,
        cast(sum(sign) as bigint) as n_values_change
    from coder_values
    group by study, scope, coder_id
),

{% if memo.changes is not none %}
    final as (
        select
            coder_changes.study,
            coder_changes.scope,
            coder_changes.coder_id,
            coalesce(previous.n_values, 0) + coder_changes.n_values_change as n_values
        from coder_changes
        left join {{ memo.previous }} as previous
            on
                coder_changes.study = previous.study
                and coder_changes.scope = previous.scope
                and coder_changes.coder_id = previous.coder_id
        where coder_changes.n_values_change <> 0
    )
{% else %}
    final as (
        select
            study,
            scope,
            coder_id,
            n_values_change as n_values
        from coder_changes
    )
{% endif %}

select
    study,
    scope,
    coder_id,
    n_values,
    {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
from final
