{#-
    The published split of every question publish writes a row about: the questions of the
    rated pairs and of the written responses (a question can have responses and no rated pair
    yet). A mart of its own, not a column of `preference_pairs`, because the responses and
    ratings files need the split of questions that have no preference pair.

    A question is in `test` when sha256("<seed>:<question_id>"), read as a fraction of 2**64,
    is below the test fraction, in `validation` when it is below the test and validation
    fractions together, else in `train`. It depends on nothing but the question and the
    settings, so a refresh that adds questions never moves an old question to another split,
    and a reader of the dataset card can check it. Adding a validation fraction later only
    moves train questions (those just above the test fraction) to `validation`.
-#}

with

pair_scores as (
    select * from {{ ref('pair_scores') }}
),

written_responses as (
    select * from {{ ref('written_responses') }}
),

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

questions as (
    select pair_scores.question_id from pair_scores
    union
    select written_responses.question_id from written_responses
),

hashed as (
    -- The first 16 hex digits of the digest are its first 8 bytes, as an unsigned integer;
    -- hex_fraction divides it by 2**64 after an exact conversion, which rounds as Python's
    -- int / 2**64 does, so this equals the rule written in Python
    -- (tests/publish/test_publish_dataset.py).
    select
        questions.question_id,
        settings.publish_seed as seed,
        settings.publish_test_fraction as test_fraction,
        settings.publish_validation_fraction as validation_fraction,
        {{ hex_fraction(
            sha256_hex("settings.publish_seed || ':' || questions.question_id"), 16
        ) }} as split_fraction
    from questions
    cross join settings
    where questions.question_id is not null
),

final as (
    select
        question_id,
        case
            when split_fraction < test_fraction then 'test'
            when split_fraction < test_fraction + validation_fraction then 'validation'
            else 'train'
        end as split,
        seed,
        split_fraction,
        test_fraction,
        validation_fraction
    from hashed
)

select * from final
