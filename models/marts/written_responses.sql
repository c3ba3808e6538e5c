with

responses as (
    select * from {{ ref('int_written_responses_evaluated') }}
    where is_counted
),

questions as (
    select * from {{ ref('int_questions_identified_from_records') }}
),

final as (
    select
        responses.response_id,
        responses.question_id,
        questions.question_text,
        responses.response_text,
        responses.writer_user_id,
        responses.dataset,
        responses.workspace,
        responses.record_id,
        responses.response_status,
        responses.responded_at
    from responses
    inner join questions
        on responses.question_id = questions.question_id
)

select * from final
