{#-
    The bootstrap draws behind `study_agreement`'s confidence interval: per study, scope,
    resample and pairable value profile, the profile's weight in that resample.

    A Poisson bootstrap over units: each unit of the scope gets an independent Poisson(1)
    count per resample, so the n_units units of a profile (identical terms of alpha) together
    get W ~ Poisson(n_units), drawn here once per profile instead of once per unit. The draw
    is exact by inverse CDF: u = the first 13 hex digits of md5("<seed>:<study>:<scope>:
    <profile>:<resample>") / 2**52 (reproducible in any language), and W is the smallest k
    with P(Poisson(n) <= k) >= u, found on the Poisson CDF (`draw_by_inverse_cdf`). The CDF is
    tabulated once per distinct n_units over k = n +- (10 sqrt(n) + 10), from the pmf
    exp(k ln n - n - ln k!); the mass left outside (below 1e-20) is ignored and the
    last k's CDF is set to 1 so that every u finds its k.

    Each scope is resampled on its own: the interval of a scope is that of its own units.

    Resample 0 is the observed sample itself: each pairable profile with weight = n_units
    and a NULL uniform (nothing is drawn). `int_agreement_alpha_by_resample` computes alpha
    once for all resamples, so its resample 0 is the full sample's alpha (`study_agreement`)
    and resamples 1 to N the bootstrap's.
-#}

{#- A draw's key, "<seed>:<study>:<scope>:<comma-joined profile>:<resample>". -#}
{%- set draw_key -%}
    '{{ var("agreement_bootstrap_seed") }}:' || profiles.study || ':' || profiles.scope || ':'
    || {{ list_to_text('profiles.coded_values', "','") }}
    || ':' || cast(resamples.resample as {{ dbt.type_string() }})
{%- endset %}

with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
    where n_unit_values >= 2
),

resamples as (
    select {{ unnest_range(1, var('agreement_bootstrap_resamples')) }} as resample
),

draws as {{ materialized_cte() }} (
    select
        profiles.study,
        profiles.scope,
        resamples.resample,
        profiles.coded_values,
        profiles.n_units,
        {{ hex_fraction('md5(' ~ draw_key ~ ')', 13) }} as uniform
    from profiles
    cross join resamples
),

poisson_means as (
    select distinct
        n_units,
        cast(n_units as {{ type_double() }}) as mean
    from profiles
),

poisson_support as (
    select
        n_units,
        mean,
        k_high,
        {{ unnest_range('k_low', 'k_high') }} as k
    from (
        select
            n_units,
            mean,
            cast(greatest(0, floor(mean - 10 * sqrt(mean) - 10)) as bigint) as k_low,
            cast(ceil(mean + 10 * sqrt(mean) + 10) as bigint) as k_high
        from poisson_means
    ) as poisson_ranges
),

poisson_cumulative as (
    select
        n_units,
        k_high,
        k,
        sum(exp(
            k * ln(mean) - mean
            - {{ log_gamma('cast(k + 1 as ' ~ type_double() ~ ')') }}
        )) over (
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
        cast(null as {{ type_double() }}) as uniform,
        n_units as weight
    from profiles
),

bootstrapped as (
    {{ draw_by_inverse_cdf('draws', 'poisson_cdf') }}
),

final as (
    select * from observed
    union all
    select * from bootstrapped
)

select * from final
