{#-
    How many units hold each multiset of counted values, per study and scope: the state
    Krippendorff's alpha is computed from (macros/krippendorff.sql). Units with the same values
    add the same terms to alpha, interval and ordinal alike, so alpha needs these counts, not
    one row per unit; at 100x they are a few thousand rows instead of 600k units with lists.

    Row-level memo (macros/memo.sql, `memo_merge`): when the grouped values were last merged
    from the ratings' changes, a refresh adds the changed units' new profiles and subtracts
    their old ones (the rows that merge deleted), and writes only the counts that moved; a
    count that falls to 0 leaves (a tombstone row with `n_units = 0`). Integer counts, so the
    result is the same as counting every unit again (tests/models/test_memo.py checks it).
-#}
{%- set memo = grouped_units_memo() -%}
{%- if memo.changes is not none %}{{ memo_delta_marker(memo) }}{% endif %}

with

{{ agreement_state_units(memo) }},

profile_changes as (
    select
        study,
        scope,
        workspace,
        dataset,
        list_sort(coded_values) as coded_values,
        cast(sum(sign) as bigint) as n_units_change
    from scoped_units
    group by study, scope, workspace, dataset, list_sort(coded_values)
),

final as (
    {{ agreement_state_counts(
        memo, 'profile_changes',
        columns=['study', 'scope', 'workspace', 'dataset', 'coded_values'],
        keys=['study', 'scope', 'coded_values'],
        counts=['n_units']
    ) }}
)

select
    study,
    scope,
    workspace,
    dataset,
    coded_values,
    len(coded_values) as n_unit_values,
    n_units,
    {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
from final
