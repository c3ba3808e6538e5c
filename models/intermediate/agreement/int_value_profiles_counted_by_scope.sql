{#-
    How many units hold each multiset of counted values, per study and scope: the state
    Krippendorff's alpha is computed from (`int_agreement_alpha_by_resample`). Units with the
    same values add the same terms to alpha, interval and ordinal alike, so alpha needs these
    counts, not one row per unit.
-#}

with

grouped_units as (
    select * from {{ ref('int_coded_values_grouped_by_unit') }}
),

scoped_units as (
    {{ units_in_scopes('grouped_units') }}
),

sorted_units as (
    select
        study,
        scope,
        workspace,
        dataset,
        {{ list_sort('coded_values') }} as coded_values
    from scoped_units
),

final as (
    select
        study,
        scope,
        workspace,
        dataset,
        coded_values,
        {{ list_length('coded_values') }} as n_unit_values,
        count(*) as n_units
    from sorted_units
    group by study, scope, workspace, dataset, coded_values
)

select * from final
