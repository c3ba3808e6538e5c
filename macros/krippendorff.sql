{% macro krippendorff_alpha(values_relation) %}
    {#-
        Krippendorff's alpha, interval and ordinal, for every study of `values_relation`
        (columns: study, workspace, dataset, unit_id, coder_id, coded_value; one integer value
        per coder and unit), overall and per workspace/dataset (scope `workspace/dataset`).
        Returns one row per study, scope and level.

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

        Speed: the values are first counted per unit and value (a unit holds a few distinct
        values), every later step works on those counts, and the overall scope is summed from
        the dataset scopes instead of from a second copy of the values.
    -#}
    dataset_value_counts as (
        select
            study,
            workspace,
            dataset,
            unit_id,
            coded_value,
            count(*) as n_value
        from {{ values_relation }}
        group by study, workspace, dataset, unit_id, coded_value
    ),

    unit_value_counts as (
        select
            study,
            workspace || '/' || dataset as scope,
            workspace,
            dataset,
            unit_id,
            coded_value,
            n_value
        from dataset_value_counts

        union all

        select
            study,
            'overall' as scope,
            cast(null as varchar) as workspace,
            cast(null as varchar) as dataset,
            unit_id,
            coded_value,
            sum(n_value) as n_value
        from dataset_value_counts
        group by study, unit_id, coded_value
    ),

    unit_sizes as (
        -- Every unit with its interval sums; a unit with one value is not pairable.
        select
            study,
            scope,
            unit_id,
            sum(n_value) as n_unit_values,
            sum(n_value * cast(coded_value as bigint)) as sum_x,
            sum(n_value * cast(coded_value as bigint) * cast(coded_value as bigint)) as sum_x2
        from unit_value_counts
        group by study, scope, unit_id
    ),

    lone_values as (
        -- The values of units that hold only one (none is pairable); few, so joins with them
        -- are cheap, where joining every value to its unit's size is not.
        select
            study,
            scope,
            unit_id,
            sum_x as coded_value
        from unit_sizes
        where n_unit_values = 1
    ),

    value_frequencies as (
        select
            study,
            scope,
            coded_value,
            sum(n_value) as n_value
        from (
            select
                study,
                scope,
                coded_value,
                n_value
            from unit_value_counts

            union all

            select
                study,
                scope,
                coded_value,
                -1 as n_value
            from lone_values
        )
        group by study, scope, coded_value
        having sum(n_value) > 0
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

    ordinal_unit_sums as (
        select
            unit_value_counts.study,
            unit_value_counts.scope,
            unit_value_counts.unit_id,
            sum(unit_value_counts.n_value) as n_unit_values,
            sum(
                unit_value_counts.n_value * cast(doubled_mid_ranks.doubled_rank as bigint)
            ) as sum_x,
            sum(
                unit_value_counts.n_value * cast(doubled_mid_ranks.doubled_rank as bigint)
                * cast(doubled_mid_ranks.doubled_rank as bigint)
            ) as sum_x2
        from unit_value_counts
        inner join doubled_mid_ranks
            on
                unit_value_counts.study = doubled_mid_ranks.study
                and unit_value_counts.scope = doubled_mid_ranks.scope
                and unit_value_counts.coded_value = doubled_mid_ranks.coded_value
        group by unit_value_counts.study, unit_value_counts.scope, unit_value_counts.unit_id
    ),

    leveled as (
        select
            study,
            scope,
            'interval' as level,
            n_unit_values,
            sum_x,
            sum_x2
        from unit_sizes
        where n_unit_values >= 2

        union all

        select
            study,
            scope,
            'ordinal' as level,
            n_unit_values,
            sum_x,
            sum_x2
        from ordinal_unit_sums
        where n_unit_values >= 2
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

    coder_values as (
        select
            study,
            workspace || '/' || dataset as scope,
            coder_id,
            count(*) as n_values
        from {{ values_relation }}
        group by study, workspace, dataset, coder_id
    ),

    coder_lone_values as (
        -- Each value of a coder in a unit that holds only that value, per scope.
        select
            scoped_values.study,
            lone_values.scope,
            scoped_values.coder_id,
            count(*) as n_values
        from {{ values_relation }} as scoped_values
        inner join lone_values
            on
                scoped_values.study = lone_values.study
                and scoped_values.unit_id = lone_values.unit_id
                and lone_values.scope
                in ('overall', scoped_values.workspace || '/' || scoped_values.dataset)
        group by scoped_values.study, lone_values.scope, scoped_values.coder_id
    ),

    coders as (
        -- A coder counts in a scope when one of their values there is pairable.
        select
            all_values.study,
            all_values.scope,
            count(*) filter (
                where all_values.n_values > coalesce(coder_lone_values.n_values, 0)
            ) as n_coders
        from (
            select * from coder_values

            union all

            select
                study,
                'overall' as scope,
                coder_id,
                sum(n_values) as n_values
            from coder_values
            group by study, coder_id
        ) as all_values
        left join coder_lone_values
            on
                all_values.study = coder_lone_values.study
                and all_values.scope = coder_lone_values.scope
                and all_values.coder_id = coder_lone_values.coder_id
        group by all_values.study, all_values.scope
    ),

    scopes as (
        select distinct
            study,
            scope,
            workspace,
            dataset
        from unit_value_counts
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
