with

records as (
    select * from {{ ref('int_writing_records_identified') }}
    where question_id is not null
),

latest_wording as (
    -- The question's text is its normalized text: the same in every workspace whatever the
    -- spacing or Unicode composition there. With a metadata id, several wordings can share an
    -- id: the most recently updated record's applies.
    select
        question_id,
        question_text_normalized as question_text,
        question_text_normalized
    from (
        select
            question_id,
            question_text_normalized,
            row_number() over (
                partition by question_id
                order by
                    updated_at desc nulls last,
                    inserted_at desc nulls last,
                    dataset asc,
                    workspace asc,
                    record_id asc
            ) as wording_rank
        from records
    ) as ranked
    where wording_rank = 1
),

summary as (
    select
        question_id,
        count(*) as n_records,
        count(distinct workspace || '/' || dataset) as n_scopes,
        {{ string_agg_sorted(
            "workspace || '/' || dataset", "', '", "workspace || '/' || dataset", distinct=true
        ) }} as scopes
    from records
    group by question_id
),

final as (
    select
        latest_wording.question_id,
        latest_wording.question_text,
        latest_wording.question_text_normalized,
        summary.scopes,
        summary.n_records,
        summary.n_scopes
    from latest_wording
    inner join summary
        on latest_wording.question_id = summary.question_id
)

select * from final
