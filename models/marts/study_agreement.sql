{#-
    Krippendorff's alpha, interval and ordinal, for every study, overall, per workspace
    (scope `workspace:<workspace>`) and per workspace/dataset (scope `workspace/dataset`).
    One row per study, scope and level: the scopes are those of
    `int_value_profiles_counted_by_scope`, `int_coders_counted_by_scope` gives the coders.

    The alpha itself (the formula, ordinal mid-ranks, exact integer sums) is computed once, in
    `int_agreement_alpha_by_resample`, for every resample of `int_agreement_resample_weights`.
    Resample 0 is the observed sample: alpha, n_units and n_values are its. NULL alpha when
    undefined (no pairable unit, or no variation among pairable values).

    The confidence interval is a Poisson bootstrap over units (resamples 1 to var
    `agreement_bootstrap_resamples`, seeded by `agreement_bootstrap_seed`): the 2.5th and
    97.5th percentiles (quantile_cont) of the resamples' alphas, over the resamples whose
    alpha is defined.
-#}

with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
),

coders as (
    select * from {{ ref('int_coders_counted_by_scope') }}
),

resampled_alphas as (
    select * from {{ ref('int_agreement_alpha_by_resample') }}
),

observed as (
    select * from resampled_alphas
    where resample = 0
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
        {{ quantile_cont('alpha', 0.025) }} as alpha_ci_low,
        {{ quantile_cont('alpha', 0.975) }} as alpha_ci_high,
        count(*) as n_resamples
    from resampled_alphas
    where resample >= 1 and alpha is not null
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
        observed.alpha,
        bootstrap.alpha_ci_low,
        bootstrap.alpha_ci_high,
        coalesce(observed.n_units, 0) as n_units,
        coalesce(coder_counts.n_coders, 0) as n_coders,
        coalesce(observed.n_values, 0) as n_values,
        coalesce(bootstrap.n_resamples, 0) as n_resamples
    from scopes
    cross join levels
    left join observed
        on
            scopes.study = observed.study
            and scopes.scope = observed.scope
            and levels.level = observed.level
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
