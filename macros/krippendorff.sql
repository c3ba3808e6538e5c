{% macro krippendorff_alpha(values_relation) %}
    {#-
        Krippendorff's alpha, interval and ordinal, for every (study, scope) of
        `values_relation` (columns: study, scope, workspace, dataset, unit_id, coder_id, coded_value;
        one integer value per coder and unit). Returns one row per study, scope and level.

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
    -#}
    unit_sizes as (
        select
            study,
            scope,
            unit_id,
            count(*) as n_unit_values
        from {{ values_relation }}
        group by study, scope, unit_id
    ),

    pairable as (
        select
            scoped.*,
            unit_sizes.n_unit_values
        from {{ values_relation }} as scoped
        inner join unit_sizes
            on
                scoped.study = unit_sizes.study
                and scoped.scope = unit_sizes.scope
                and scoped.unit_id = unit_sizes.unit_id
        where unit_sizes.n_unit_values >= 2
    ),

    value_frequencies as (
        select
            study,
            scope,
            coded_value,
            count(*) as n_value
        from pairable
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

    leveled as (
        select
            study,
            scope,
            'interval' as level,
            unit_id,
            n_unit_values,
            cast(coded_value as bigint) as x
        from pairable

        union all

        select
            pairable.study,
            pairable.scope,
            'ordinal' as level,
            pairable.unit_id,
            pairable.n_unit_values,
            cast(doubled_mid_ranks.doubled_rank as bigint) as x
        from pairable
        inner join doubled_mid_ranks
            on
                pairable.study = doubled_mid_ranks.study
                and pairable.scope = doubled_mid_ranks.scope
                and pairable.coded_value = doubled_mid_ranks.coded_value
    ),

    unit_sums as (
        select
            study,
            scope,
            level,
            unit_id,
            n_unit_values,
            sum(x) as sum_x,
            sum(x * x) as sum_x2
        from leveled
        group by study, scope, level, unit_id, n_unit_values
    ),

    within_by_unit_size as (
        select
            study,
            scope,
            level,
            n_unit_values,
            sum(n_unit_values * sum_x2 - sum_x * sum_x) as within_squares
        from unit_sums
        group by study, scope, level, n_unit_values
    ),

    observed as (
        select
            study,
            scope,
            level,
            sum(
                cast(within_squares as double) / (n_unit_values - 1) order by n_unit_values
            ) as observed_disagreement
        from within_by_unit_size
        group by study, scope, level
    ),

    totals as (
        select
            study,
            scope,
            level,
            count(*) as n_units,
            sum(n_unit_values) as n_values,
            sum(n_unit_values) * sum(sum_x2) - sum(sum_x) * sum(sum_x) as total_squares
        from unit_sums
        group by study, scope, level
    ),

    coders as (
        select
            study,
            scope,
            count(distinct coder_id) as n_coders
        from pairable
        group by study, scope
    ),

    scopes as (
        select distinct
            study,
            scope,
            workspace,
            dataset
        from {{ values_relation }}
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
                when totals.total_squares > 0
                    then 1 - observed.observed_disagreement * (totals.n_values - 1)
                    / cast(totals.total_squares as double)
            end as alpha,
            coalesce(totals.n_units, 0) as n_units,
            coalesce(coders.n_coders, 0) as n_coders,
            coalesce(totals.n_values, 0) as n_values
        from scopes
        cross join levels
        left join totals
            on
                scopes.study = totals.study
                and scopes.scope = totals.scope
                and levels.level = totals.level
        left join observed
            on
                scopes.study = observed.study
                and scopes.scope = observed.scope
                and levels.level = observed.level
        left join coders
            on
                scopes.study = coders.study
                and scopes.scope = coders.scope
    )
{% endmacro %}
