{#-
    Per study and scope, the doubled mid-rank of every value from the lowest to the highest
    pairable value (counted values in units with two or more): position v - min_value + 1 of
    `doubled_ranks` holds the doubled mid-rank of value v, R(v) = 2 * (pairable values below v)
    + n_v. Ordinal alpha is interval alpha on these ranks (`int_agreement_alpha_by_resample`,
    which takes the value range from here and recomputes them per resample; resample 0's
    are these); doubled, every sum stays an exact integer.
-#}

with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
),

pairable_profiles as (
    select * from profiles
    where n_unit_values >= 2
),

value_frequencies as (
    select
        study,
        scope,
        coded_value,
        sum(n_units) as n_value
    from (
        select
            study,
            scope,
            n_units,
            {{ unnest_list('coded_values') }} as coded_value
        from pairable_profiles
    ) as profile_values
    group by study, scope, coded_value
),

doubled_mid_ranks as (
    select
        study,
        scope,
        coded_value,
        2 * sum(n_value) over (
            partition by study, scope
            order by coded_value
            rows between unbounded preceding and current row
        ) - n_value as doubled_rank
    from value_frequencies
),

value_ranges as (
    select
        study,
        scope,
        min(coded_value) as min_value,
        max(coded_value) as max_value
    from value_frequencies
    group by study, scope
),

value_grid as (
    -- Every value of the range, given or not.
    select
        study,
        scope,
        min_value,
        {{ unnest_range('min_value', 'max_value') }} as coded_value
    from value_ranges
),

rank_lists as (
    select
        value_grid.study,
        value_grid.scope,
        value_grid.min_value,
        {{ list_agg(
            'cast(doubled_mid_ranks.doubled_rank as bigint)', 'value_grid.coded_value'
        ) }} as doubled_ranks
    from value_grid
    left join doubled_mid_ranks
        on
            value_grid.study = doubled_mid_ranks.study
            and value_grid.scope = doubled_mid_ranks.scope
            and value_grid.coded_value = doubled_mid_ranks.coded_value
    group by value_grid.study, value_grid.scope, value_grid.min_value
)

select * from rank_lists
