-- Asserts that exactly one valid version of the study settings applies: without it nothing
-- can be counted (run `rlhfw extract`, which lands study.yml as study/settings).
with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
)

select count(*) as n_valid_settings
from settings
having count(*) <> 1
