{#-
    Krippendorff's alpha, interval and ordinal, for every study, overall, per workspace
    (scope `workspace:<workspace>`) and per workspace/dataset (scope `workspace/dataset`), from `int_value_profiles_counted_by_scope`
    (per study and scope, for each sorted list of counted values, how many units hold it);
    `int_coders_counted_by_scope` gives the coders, `int_value_ranks_by_scope` the ordinal
    ranks. One row per study, scope and level.

    Only pairable values count (units with two or more values). With m_u values in unit u,
    n pairable values in all, and x the value (interval) or its rank (ordinal):
        alpha = 1 - (n - 1) * sum_u [(m_u * sum x^2 - (sum x)^2) / (m_u - 1)]
                        / (n * sum x^2 - (sum x)^2)
    which is 1 - D_o / D_e of the coincidence-matrix definition with squared differences.
    The ordinal distance (sum of the pairable frequencies from c to k, less half of n_c and
    n_k) is the squared difference of mid-ranks R(v) = (count of pairable values below v)
    + n_v / 2, so ordinal alpha is interval alpha on mid-ranks. Doubled ranks keep every
    sum an exact integer (the factor cancels), and the per-unit-size terms are added in a
    fixed order, so a rebuild gives the same bits. NULL when undefined (no pairable unit,
    or no variation among pairable values).

    Units with the same values add the same terms, so each profile's terms are weighted by
    its count of units: the work is per profile, not per unit.

    The confidence interval is a Poisson bootstrap over units (`int_agreement_resample_weights`:
    var `agreement_bootstrap_resamples` resamples, seeded by `agreement_bootstrap_seed`): the
    2.5th and 97.5th percentiles (quantile_cont) of the resamples' alphas
    (`int_agreement_alpha_by_resample`), over the resamples whose alpha is defined.
-#}

with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
),

coders as (
    select * from {{ ref('int_coders_counted_by_scope') }}
),

rank_lists as (
    select * from {{ ref('int_value_ranks_by_scope') }}
),

resampled_alphas as (
    select * from {{ ref('int_agreement_alpha_by_resample') }}
    where alpha is not null
),

pairable_profiles as (
    select * from profiles
    where n_unit_values >= 2
),

leveled as (
    select
        study,
        scope,
        'interval' as level,  -- noqa: RF04
        n_unit_values,
        n_units,
        list_sum(coded_values) as sum_x,
        -- noqa: disable=RF02
        list_sum([coded_value * coded_value for coded_value in coded_values]) as sum_x2
        -- noqa: enable=RF02
    from pairable_profiles

    union all

    select
        pairable_profiles.study,
        pairable_profiles.scope,
        'ordinal' as level,  -- noqa: RF04
        pairable_profiles.n_unit_values,
        pairable_profiles.n_units,
        -- noqa: disable=RF02
        list_sum([
            rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
            for coded_value in pairable_profiles.coded_values
        ]) as sum_x,
        list_sum([
            rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
            * rank_lists.doubled_ranks[coded_value - rank_lists.min_value + 1]
            for coded_value in pairable_profiles.coded_values
        ]) as sum_x2
        -- noqa: enable=RF02
    from pairable_profiles
    inner join rank_lists
        on
            pairable_profiles.study = rank_lists.study
            and pairable_profiles.scope = rank_lists.scope
),

within_by_unit_size as (
    -- Integer sums (HUGEINT: on large studies the ordinal squares pass the BIGINT range).
    select
        study,
        scope,
        level,
        n_unit_values,
        sum(n_units) as n_units,
        sum(
            cast(n_units as hugeint)
            * (n_unit_values * cast(sum_x2 as hugeint) - cast(sum_x as hugeint) * sum_x)
        ) as within_squares,
        sum(cast(n_units as hugeint) * sum_x) as sum_x,
        sum(cast(n_units as hugeint) * sum_x2) as sum_x2
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

coder_counts as (
    -- A coder counts in a scope when one of their values there is pairable (the state
    -- keeps only coders with such values).
    select
        study,
        scope,
        count(*) as n_coders
    from coders
    group by study, scope
),

scopes as (
    select distinct
        study,
        scope,
        workspace,
        dataset
    from profiles
),

bootstrap as (
    select
        study,
        scope,
        level,
        quantile_cont(alpha, 0.025) as alpha_ci_low,
        quantile_cont(alpha, 0.975) as alpha_ci_high,
        count(*) as n_resamples
    from resampled_alphas
    group by study, scope, level
),

levels as (
    select 'interval' as level  -- noqa: RF04
    union all
    select 'ordinal' as level  -- noqa: RF04
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
        bootstrap.alpha_ci_low,
        bootstrap.alpha_ci_high,
        cast(coalesce(disagreement.n_units, 0) as bigint) as n_units,
        coalesce(coder_counts.n_coders, 0) as n_coders,
        cast(coalesce(disagreement.n_values, 0) as bigint) as n_values,
        coalesce(bootstrap.n_resamples, 0) as n_resamples
    from scopes
    cross join levels
    left join disagreement
        on
            scopes.study = disagreement.study
            and scopes.scope = disagreement.scope
            and levels.level = disagreement.level
    left join coder_counts
        on
            scopes.study = coder_counts.study
            and scopes.scope = coder_counts.scope
    left join bootstrap
        on
            scopes.study = bootstrap.study
            and scopes.scope = bootstrap.scope
            and levels.level = bootstrap.level
)

select * from alpha
