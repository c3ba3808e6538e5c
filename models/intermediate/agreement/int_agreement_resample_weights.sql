{#-
    The bootstrap draws behind `study_agreement`'s confidence interval: per study, scope,
    resample and pairable value profile, the profile's weight in that resample.

    A Poisson bootstrap over units: each unit of the scope gets an independent Poisson(1)
    count per resample, so the n_units units of a profile (identical terms of alpha) together
    get W ~ Poisson(n_units), drawn here once per profile instead of once per unit. The draw
    is exact by inverse CDF: u = the first 13 hex digits of md5("<seed>:<study>:<scope>:
    <profile>:<resample>") / 2**52 (reproducible in any language), and W is the smallest k
    with P(Poisson(n) <= k) >= u, found with an ASOF join on the Poisson CDF. The CDF is
    tabulated once per distinct n_units over k = n +- (10 sqrt(n) + 10), from the pmf
    exp(k ln n - n - lgamma(k + 1)); the mass left outside (below 1e-20) is ignored and the
    last k's CDF is set to 1 so that every u finds its k.

    Each scope is resampled on its own: the interval of a scope is that of its own units.

    Resample 0 is the observed sample itself: each pairable profile with weight = n_units
    and a NULL uniform (nothing is drawn). `int_agreement_alpha_by_resample` computes alpha
    once for all resamples, so its resample 0 is the full sample's alpha (`study_agreement`)
    and resamples 1 to N the bootstrap's.
-#}

with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
    where n_unit_values >= 2
),

resamples as (
    select unnest(range(1, {{ var('agreement_bootstrap_resamples') }} + 1)) as resample
),

draws as (
    select
        profiles.study,
        profiles.scope,
        resamples.resample,
        profiles.coded_values,
        profiles.n_units,
        cast(
            '0x' || left(md5(
                '{{ var("agreement_bootstrap_seed") }}:' || profiles.study || ':'
                || profiles.scope || ':' || array_to_string(profiles.coded_values, ',')
                || ':' || resamples.resample
            ), 13) as ubigint
        ) / 2 ** 52 as uniform
    from profiles
    cross join resamples
),

poisson_means as (
    select distinct
        n_units,
        cast(greatest(0, floor(n_units - 10 * sqrt(n_units) - 10)) as bigint) as k_low,
        cast(ceil(n_units + 10 * sqrt(n_units) + 10) as bigint) as k_high
    from profiles
),

poisson_support as (
    select
        n_units,
        k_high,
        unnest(range(k_low, k_high + 1)) as k
    from poisson_means
),

poisson_cumulative as (
    select
        n_units,
        k_high,
        k,
        sum(exp(k * ln(n_units) - n_units - lgamma(k + 1))) over (
            partition by n_units order by k rows between unbounded preceding and current row
        ) as cumulative_probability
    from poisson_support
),

poisson_cdf as (
    select
        n_units,
        k,
        case when k = k_high then 1.0 else cumulative_probability end as cdf
    from poisson_cumulative
),

observed as (
    select
        study,
        scope,
        cast(0 as bigint) as resample,
        coded_values,
        n_units,
        cast(null as double) as uniform,
        n_units as weight
    from profiles
),

bootstrapped as (
    select
        draws.study,
        draws.scope,
        draws.resample,
        draws.coded_values,
        draws.n_units,
        draws.uniform,
        poisson_cdf.k as weight
    from draws
    asof inner join poisson_cdf
        on
            draws.n_units = poisson_cdf.n_units
            and draws.uniform <= poisson_cdf.cdf
),

final as (
    select * from observed
    union all
    select * from bootstrapped
)

select * from final
