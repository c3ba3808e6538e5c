with

profiles as (
    select * from {{ ref('int_value_profiles_counted_by_scope') }}
),

coders as (
    select * from {{ ref('int_coders_counted_by_scope') }}
),

{{ krippendorff_alpha('profiles', 'coders') }}

select * from alpha
