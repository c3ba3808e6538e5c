{#-
    Krippendorff's alpha, interval and ordinal, per study, scope and resample of
    `int_agreement_resample_weights`, the one place the formula is written. Resample 0 is
    the observed sample: its alpha, n_units and n_values are `study_agreement`'s; the
    percentiles of resamples 1 to N (the Poisson bootstrap) its confidence interval.

    Only pairable values count (units with two or more values). With m_u values in unit u,
    n pairable values in all, and x the value (interval) or its rank (ordinal):
        alpha = 1 - (n - 1) * sum_u [(m_u * sum x^2 - (sum x)^2) / (m_u - 1)]
                        / (n * sum x^2 - (sum x)^2)
    which is 1 - D_o / D_e with squared differences. Ordinal alpha is interval alpha on the
    mid-ranks R(v) = (pairable values below v) + n_v / 2 of each resample's weighted value
    frequencies; doubled, every sum is an exact integer, and per-unit-size terms add in a
    fixed order (a rebuild gives the same bits). NULL when undefined. A profile's terms are
    multiplied by its weight: the work is per profile, not per unit.
-#}

{#- Wider than BIGINT, exact; a value's doubled mid-rank in its resample. -#}
{%- set wide = type_hugeint() -%}
{%- set rank = list_element(
    'rank_lists.doubled_ranks', 'coded_value - rank_lists.min_value + 1'
) -%}

with

weights as (
    -- Drawn, pairable profiles (the weights hold only those; a single value has no pair).
    select * from {{ ref('int_agreement_resample_weights') }}
    where weight > 0 and {{ list_length('coded_values') }} >= 2
),

ranges as (
    -- The scope's value range; a resample holds a subset of the scope's values.
    select * from {{ ref('int_value_ranks_by_scope') }}
),

value_frequencies as (
    select
        study,
        scope,
        resample,
        coded_value,
        sum(weight) as n_value
    from (
        select
            study,
            scope,
            resample,
            weight,
            {{ unnest_list('coded_values') }} as coded_value
        from weights
    ) as drawn
    group by study, scope, resample, coded_value
),

resampled_scopes as (
    select distinct
        study,
        scope,
        resample
    from weights
),

value_grid as (
    -- Every value of the scope's range in every resample, drawn or not (position v - min + 1).
    select
        resampled_scopes.study,
        resampled_scopes.scope,
        resampled_scopes.resample,
        ranges.min_value,
        {{ unnest_range(
            'ranges.min_value',
            'ranges.min_value + ' ~ list_length('ranges.doubled_ranks') ~ ' - 1'
        ) }} as coded_value
    from resampled_scopes
    inner join ranges
        on
            resampled_scopes.study = ranges.study
            and resampled_scopes.scope = ranges.scope
),

grid_frequencies as (
    select
        value_grid.*,
        coalesce(value_frequencies.n_value, 0) as n_value
    from value_grid
    left join value_frequencies
        on
            value_grid.study = value_frequencies.study
            and value_grid.scope = value_frequencies.scope
            and value_grid.resample = value_frequencies.resample
            and value_grid.coded_value = value_frequencies.coded_value
),

rank_lists as (
    -- Doubled mid-ranks 2 * (drawn values below v) + (drawn values equal to v), as the scope's.
    select
        study,
        scope,
        resample,
        min_value,
        {{ list_agg('2 * n_below + n_value', 'coded_value') }} as doubled_ranks
    from (
        select
            *,
            coalesce(sum(n_value) over (
                partition by study, scope, resample
                order by coded_value
                rows between unbounded preceding and 1 preceding
            ), 0) as n_below
        from grid_frequencies
    ) as ranked_values
    group by study, scope, resample, min_value
),

leveled as (
    select
        study,
        scope,
        resample,
        'interval' as level,  -- noqa: RF04
        {{ list_length('coded_values') }} as n_unit_values,
        weight,
        {{ list_sum('coded_values') }} as sum_x,
        {{ list_sum('coded_values', 'coded_value', 'coded_value * coded_value') }} as sum_x2
    from weights

    union all

    select
        weights.study,
        weights.scope,
        weights.resample,
        'ordinal' as level,  -- noqa: RF04
        {{ list_length('weights.coded_values') }} as n_unit_values,
        weights.weight,
        {{ list_sum('weights.coded_values', 'coded_value', rank) }} as sum_x,
        {{ list_sum('weights.coded_values', 'coded_value', rank ~ ' * ' ~ rank) }} as sum_x2
    from weights
    inner join rank_lists
        on
            weights.study = rank_lists.study
            and weights.scope = rank_lists.scope
            and weights.resample = rank_lists.resample
),

within_by_unit_size as (
    -- Integer sums (wider than BIGINT: on large studies the ordinal squares pass its range).
    select
        study,
        scope,
        resample,
        level,
        n_unit_values,
        sum(weight) as n_units,
        sum(
            cast(weight as {{ wide }})
            * (n_unit_values * cast(sum_x2 as {{ wide }}) - cast(sum_x as {{ wide }}) * sum_x)
        ) as within_squares,
        sum(cast(weight as {{ wide }}) * sum_x) as sum_x,
        sum(cast(weight as {{ wide }}) * sum_x2) as sum_x2
    from leveled
    group by study, scope, resample, level, n_unit_values
),

disagreement as (
    select
        study,
        scope,
        resample,
        level,
        {{ ordered_sum(
            'cast(within_squares as ' ~ type_double() ~ ') / (n_unit_values - 1)', 'n_unit_values'
        ) }} as observed_disagreement,
        sum(n_units) as n_units,
        sum(n_units * n_unit_values) as n_values,
        sum(n_units * n_unit_values) * sum(sum_x2) - sum(sum_x) * sum(sum_x) as total_squares
    from within_by_unit_size
    group by study, scope, resample, level
),

final as (
    select
        study,
        scope,
        level,
        resample,
        case
            when total_squares > 0
                then
                    1 - observed_disagreement * (n_values - 1)
                    / cast(total_squares as {{ type_double() }})
        end as alpha,
        cast(n_units as bigint) as n_units,
        cast(n_values as bigint) as n_values
    from disagreement
)

select * from final
