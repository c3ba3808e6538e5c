{% macro krippendorff_alpha(units_relation) %}
    {#-
        Krippendorff's alpha, interval and ordinal, for every study of `units_relation`
        (`int_coded_values_grouped_by_unit`: one row per unit and scope with the unit's value
        count, sums and list of integer values), overall and per workspace/dataset (scope
        `workspace/dataset`). Returns one row per study, scope and level.

        Only pairable values count (units with two or more values). With m_u values in unit u,
        n pairable values in all, and x the value (interval) or its rank (ordinal):
            alpha = 1 - (n - 1) * sum_u [(m_u * sum x^2 - (sum x)^2) / (m_u - 1)]
                            / (n * sum x^2 - (sum x)^2)
        which is 1 - D_o / D_e of the coincidence-matrix definition with squared differences.
        The ordinal distance (sum of the pairable frequencies from c to k, less half of n_c and
        n_k) is the squared difference of mid-ranks R(v) = (count of pairable values below v)
        + n_v / 2, so ordinal alpha is interval alpha on mid-ranks. Doubled ranks keep every
        sum an exact integer (the factor cancels), and the per-unit terms are added in a fixed
        order, so a rebuild gives the same bits. NULL when undefined (no pairable unit, or no
        variation among pairable values).

        Speed: one row per unit, no grouping by unit: the interval sums are stored, the ordinal
        ones are the unit's values looked up in a dense list of ranks per scope.
    -#}
    scoped_units as (
        -- Each unit in its dataset scope and in the overall scope: a unit seen in one dataset
        -- has no overall row of its own.
        select
            study,
            scope,
            workspace,
            dataset,
            n_unit_values,
            sum_x,
            sum_x2,
            coder_ids,
            coded_values
        from {{ units_relation }}

        union all

        select
            study,
            'overall' as scope,
            cast(null as varchar) as workspace,
            cast(null as varchar) as dataset,
            n_unit_values,
            sum_x,
            sum_x2,
            coder_ids,
            coded_values
        from {{ units_relation }}
        where n_unit_scopes = 1
    ),

    pairable_units as (
        select * from scoped_units
        where n_unit_values >= 2
    ),

    value_frequencies as (
        select
            study,
            scope,
            coded_value,
            count(*) as n_value
        from (
            select
                study,
                scope,
                unnest(coded_values) as coded_value
            from pairable_units
        )
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

    rank_lists as (
        -- Position v - min_value + 1 holds the doubled rank of value v.
        select
            value_ranges.study,
            value_ranges.scope,
            value_ranges.min_value,
            list(
                cast(doubled_mid_ranks.doubled_rank as bigint) order by value_grid.coded_value
            ) as doubled_ranks
        from value_ranges
        cross join
            unnest(range(value_ranges.min_value, value_ranges.max_value + 1))
                as value_grid (coded_value)
        left join doubled_mid_ranks
            on
                value_ranges.study = doubled_mid_ranks.study
                and value_ranges.scope = doubled_mid_ranks.scope
                and value_grid.coded_value = doubled_mid_ranks.coded_value
        group by value_ranges.study, value_ranges.scope, value_ranges.min_value
    ),

    leveled as (
        select
            study,
            scope,
            'interval' as level,
            n_unit_values,
            sum_x,
            sum_x2
        from pairable_units

        union all

        select
            pairable_units.study,
            pairable_units.scope,
            'ordinal' as level,
            pairable_units.n_unit_values,
            list_sum([
                rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
                for coded_value in pairable_units.coded_values
            ]) as sum_x,
            list_sum([
                rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
                * rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
                for coded_value in pairable_units.coded_values
            ]) as sum_x2
        from pairable_units
        inner join rank_lists
            on
                pairable_units.study = rank_lists.study
                and pairable_units.scope = rank_lists.scope
    ),

    within_by_unit_size as (
        select
            study,
            scope,
            level,
            n_unit_values,
            count(*) as n_units,
            sum(n_unit_values * sum_x2 - sum_x * sum_x) as within_squares,
            sum(sum_x) as sum_x,
            sum(sum_x2) as sum_x2
        from leveled
        group by study, scope, level, n_unit_values
    ),

    disagreement as (
        select
            study,
            scope,
            level,
            sum(
                cast(within_squares as double) / (n_unit_values - 1) order by n_unit_values
            ) as observed_disagreement,
            sum(n_units) as n_units,
            sum(n_units * n_unit_values) as n_values,
            sum(n_units * n_unit_values) * sum(sum_x2) - sum(sum_x) * sum(sum_x) as total_squares
        from within_by_unit_size
        group by study, scope, level
    ),

    coders as (
        -- A coder counts in a scope when one of their values there is pairable.
        select
            study,
            scope,
            count(distinct coder_id) as n_coders
        from (
            select
                study,
                scope,
                unnest(coder_ids) as coder_id
            from pairable_units
        )
        group by study, scope
    ),

    scopes as (
        select distinct
            study,
            scope,
            workspace,
            dataset
        from scoped_units
    ),

    levels as (
        select 'interval' as level
        union all
        select 'ordinal' as level
    ),

    alpha as (
        select
            scopes.study,
            scopes.scope,
            levels.level,
            scopes.workspace,
            scopes.dataset,
            case
                when disagreement.total_squares > 0
                    then 1 - disagreement.observed_disagreement * (disagreement.n_values - 1)
                    / cast(disagreement.total_squares as double)
            end as alpha,
            coalesce(disagreement.n_units, 0) as n_units,
            coalesce(coders.n_coders, 0) as n_coders,
            coalesce(disagreement.n_values, 0) as n_values
        from scopes
        cross join levels
        left join disagreement
            on
                scopes.study = disagreement.study
                and scopes.scope = disagreement.scope
                and levels.level = disagreement.level
        left join coders
            on
                scopes.study = coders.study
                and scopes.scope = coders.scope
    )
{% endmacro %}
