{#-
    How many pairable values (in units with two or more values) each coder has, per study and
    scope: agreement's coder count (macros/krippendorff.sql) is the number of these rows.

    Row-level memo (macros/memo.sql, `memo_merge`), as `int_value_profiles_counted_by_scope`:
    a refresh adds the changed units' coders and subtracts those of their old rows; a coder
    whose count falls to 0 leaves (a tombstone row with `n_values = 0`).
-#}
{%- set memo = grouped_units_memo() -%}
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

final as (
    {{ agreement_state_counts(
        memo, 'coder_changes',
        columns=['study', 'scope', 'coder_id'],
        keys=['study', 'scope', 'coder_id'],
        counts=['n_values']
    ) }}
)

select
    study,
    scope,
    coder_id,
    n_values,
    {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
from final
