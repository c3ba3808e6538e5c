{#-
    Row-level memo (macros/memo.sql, `memo_merge`): when nothing but the rating records changed
    since the last build, only new or changed records are linked and written, and records that
    are gone leave a tombstone (a row without `record_row_sha256`); the rest keep their rows.
    Those records are the ones the last merge of the staged records wrote, when that merge
    started from the records this table was built from; else every record is compared.
-#}
{%- set memo = memo_reusable_rows(roles=['writing'], changes_from=['stg_argilla__records']) -%}
{{- memo_delta_marker(memo) }}

with

settings as (
    select * from {{ ref('stg_study__settings') }}
    where quarantine_reason is null
),

records as (
    select * from {{ ref('stg_argilla__records') }}
    where quarantine_reason is null and study_role = 'rating'
),

{% if memo.previous is not none %}
    previous_build as (
        select
            dataset,
            workspace,
            record_id,
            record_row_sha256
        from {{ memo.previous }}
    ),
{% endif %}

questions as (
    select * from {{ ref('int_questions_identified_from_records') }}
),

written as (
    -- Every landed written response, counted or not: a side that matches an uncounted one is
    -- `response_not_counted`, not `unlinkable`.
    select * from {{ ref('int_written_responses_evaluated') }}
    where response_id is not null
),

writing_records as (
    select * from {{ ref('int_writing_records_identified') }}
),

counted_response_ids as (
    -- A side is counted when its response id counts (a writer's latest answer), whichever of
    -- that writer's answers to the question the record shows.
    select distinct response_id from written
    where is_counted
),

candidates as (
    select
        written.question_id,
        written.response_id,
        written.writer_user_id,
        written.writer_username,
        written.response_text_normalized,
        written.responded_at,
        counted_response_ids.response_id is not null as is_counted
    from written
    left join counted_response_ids
        on written.response_id = counted_response_ids.response_id
),

{% if memo.previous is none %}
    known_normalizations as (
        -- Texts the writing study already normalized. Rating records show those very strings
        -- as a rule, so most texts here need no regex work (at 100x: 1.8M texts, ~9 s of it
        -- otherwise).
        select
            text_raw,
            text_normalized
        from (
            select
                question_text_raw as text_raw,
                question_text_normalized as text_normalized
            from writing_records
            union all
            select
                response_text as text_raw,
                response_text_normalized as text_normalized
            from written
        ) as texts
        where text_raw is not null
    ),
{% endif %}

{% if memo.changes is not none %}
    -- rlhfw-memo: from upstream changes
    changed_records as (
        select * from {{ memo.changes['stg_argilla__records'] }}
    ),

    records_to_link as (
        select * from changed_records
        where quarantine_reason is null and study_role = 'rating'
    ),

    gone as (
        -- Linked before, no longer a rating record (quarantined since): tombstones.
        select
            previous_build.dataset,
            previous_build.workspace,
            previous_build.record_id
        from previous_build
        semi join changed_records
            on
                previous_build.dataset = changed_records.dataset
                and previous_build.workspace = changed_records.workspace
                and previous_build.record_id = changed_records.record_id
        anti join records_to_link
            on
                previous_build.dataset = records_to_link.dataset
                and previous_build.workspace = records_to_link.workspace
                and previous_build.record_id = records_to_link.record_id
    ),
{% elif memo.previous is not none %}
    records_to_link as (
        -- New records, and records whose latest landed version changed.
        select records.*
        from records
        left join previous_build
            on
                records.dataset = previous_build.dataset
                and records.workspace = previous_build.workspace
                and records.record_id = previous_build.record_id
                and records.row_sha256 = previous_build.record_row_sha256
        where previous_build.record_id is null
    ),

    gone as (
        -- Linked before, no longer a rating record (quarantined since): tombstones.
        select
            previous_build.dataset,
            previous_build.workspace,
            previous_build.record_id
        from previous_build
        left join records
            on
                previous_build.dataset = records.dataset
                and previous_build.workspace = records.workspace
                and previous_build.record_id = records.record_id
        where records.record_id is null
    ),
{% else %}
    records_to_link as (
        select * from records
    ),
{% endif %}

question_by_text as (
    select
        question_text_normalized,
        min(question_id) as question_id
    from questions
    group by question_text_normalized
),

parsed as (
    select
        records.dataset,
        records.workspace,
        records.record_id,
        {{ json_text('records.fields_json', 'settings.rating_question_field') }}
            as question_text_raw,
        {{ json_text('records.fields_json', 'settings.response_a_field') }} as response_a_text,
        {{ json_text('records.fields_json', 'settings.response_b_field') }} as response_b_text,
        case
            when settings.question_id_metadata is not null
                then trim(
                        {{ json_text('records.metadata_json', 'settings.question_id_metadata') }}
                    )
        end as question_id_from_metadata,
        case
            when settings.response_a_metadata is not null
                then trim(
                        {{ json_text('records.metadata_json', 'settings.response_a_metadata') }}
                    )
        end as response_a_key,
        case
            when settings.response_b_metadata is not null
                then trim(
                        {{ json_text('records.metadata_json', 'settings.response_b_metadata') }}
                    )
        end as response_b_key,
        records.row_sha256 as record_row_sha256
    from records_to_link as records
    cross join settings
),

texts as (
    select
        dataset,
        workspace,
        record_id,
        'question' as part,
        question_text_raw as text_raw
    from parsed
    union all
    select
        dataset,
        workspace,
        record_id,
        'response_a' as part,
        response_a_text as text_raw
    from parsed
    union all
    select
        dataset,
        workspace,
        record_id,
        'response_b' as part,
        response_b_text as text_raw
    from parsed
),

{% if memo.previous is none %}
    normalizations_needed as (
        -- Only the texts being linked: in a refresh that links a few records, a distinct over
        -- every written text cost more than the linking itself.
        select distinct
            known_normalizations.text_raw,
            known_normalizations.text_normalized
        from known_normalizations
        where known_normalizations.text_raw in (select texts.text_raw from texts)
    ),

    texts_normalized as (
        select
            texts.dataset,
            texts.workspace,
            texts.record_id,
            texts.part,
            -- coalesce evaluates the normalization only where the lookup found nothing.
            coalesce(
                normalizations_needed.text_normalized, {{ normalize_text('texts.text_raw') }}
            ) as text_normalized
        from texts
        left join normalizations_needed
            on texts.text_raw = normalizations_needed.text_raw
    ),
{% else %}
    texts_normalized as (
        -- A refresh links a few records: normalizing their texts costs less than looking them
        -- up among every written text.
        select
            dataset,
            workspace,
            record_id,
            part,
            {{ normalize_text('text_raw') }} as text_normalized
        from texts
    ),
{% endif %}

normalized as (
    select
        parsed.*,
        question_text.text_normalized as question_text_normalized,
        response_a_text.text_normalized as response_a_text_normalized,
        response_b_text.text_normalized as response_b_text_normalized
    from parsed
    inner join texts_normalized as question_text
        on
            parsed.dataset = question_text.dataset
            and parsed.workspace = question_text.workspace
            and parsed.record_id = question_text.record_id
            and question_text.part = 'question'
    inner join texts_normalized as response_a_text
        on
            parsed.dataset = response_a_text.dataset
            and parsed.workspace = response_a_text.workspace
            and parsed.record_id = response_a_text.record_id
            and response_a_text.part = 'response_a'
    inner join texts_normalized as response_b_text
        on
            parsed.dataset = response_b_text.dataset
            and parsed.workspace = response_b_text.workspace
            and parsed.record_id = response_b_text.record_id
            and response_b_text.part = 'response_b'
),

identified as (
    -- The record's own question id (metadata), else the writing study's id for this text.
    select
        normalized.*,
        case
            when normalized.question_id_from_metadata <> ''
                then normalized.question_id_from_metadata
            when question_by_text.question_id is not null then question_by_text.question_id
            when normalized.question_text_normalized <> ''
                then {{ short_id('normalized.question_text_normalized') }}
        end as question_id
    from normalized
    left join question_by_text
        on normalized.question_text_normalized = question_by_text.question_text_normalized
),

sides as (
    select
        dataset,
        workspace,
        record_id,
        question_id,
        'a' as side,
        nullif(response_a_key, '') as side_key,
        response_a_text_normalized as side_text_normalized
    from identified

    union all

    select
        dataset,
        workspace,
        record_id,
        question_id,
        'b' as side,
        nullif(response_b_key, '') as side_key,
        response_b_text_normalized as side_text_normalized
    from identified
),

written_keys as (
    -- A metadata key may name the response id, the writer's user id or their username.
    select
        question_id,
        response_id as side_key,
        response_id,
        is_counted,
        responded_at
    from candidates

    union all

    select
        question_id,
        writer_user_id as side_key,
        response_id,
        is_counted,
        responded_at
    from candidates

    union all

    select
        question_id,
        writer_username as side_key,
        response_id,
        is_counted,
        responded_at
    from candidates
    where writer_username is not null
),

matches as (
    select
        sides.dataset,
        sides.workspace,
        sides.record_id,
        sides.side,
        written_keys.response_id,
        written_keys.is_counted,
        written_keys.responded_at
    from sides
    inner join written_keys
        on
            sides.question_id = written_keys.question_id
            and sides.side_key = written_keys.side_key
    where sides.side_key is not null

    union all

    select
        sides.dataset,
        sides.workspace,
        sides.record_id,
        sides.side,
        candidates.response_id,
        candidates.is_counted,
        candidates.responded_at
    from sides
    inner join candidates
        on
            sides.question_id = candidates.question_id
            and sides.side_text_normalized = candidates.response_text_normalized
    where sides.side_key is null and sides.side_text_normalized <> ''
),

best_matches as (
    -- Several writers can write the same text: prefer a counted response, then the lowest id.
    select
        dataset,
        workspace,
        record_id,
        side,
        response_id,
        is_counted,
        count(distinct response_id) over (
            partition by dataset, workspace, record_id, side
        ) as n_matching_responses
    from matches
    qualify row_number() over (
            partition by dataset, workspace, record_id, side
            order by is_counted desc, response_id asc, responded_at desc nulls last
        ) = 1
),

linked as (
    select
        identified.dataset,
        identified.workspace,
        identified.record_id,
        identified.question_id,
        identified.question_text_raw,
        identified.response_a_text,
        identified.response_b_text,
        identified.record_row_sha256,
        side_a.response_id as response_a_id,
        side_b.response_id as response_b_id,
        coalesce(side_a.is_counted, false) as is_response_a_counted,
        coalesce(side_b.is_counted, false) as is_response_b_counted,
        coalesce(side_a.n_matching_responses, 0) as n_response_a_matches,
        coalesce(side_b.n_matching_responses, 0) as n_response_b_matches,
        -- The canonical pair: sorted, so the same two responses are one pair in any order.
        least(side_a.response_id, side_b.response_id) as response_1_id,
        greatest(side_a.response_id, side_b.response_id) as response_2_id
    from identified
    left join best_matches as side_a
        on
            identified.dataset = side_a.dataset
            and identified.workspace = side_a.workspace
            and identified.record_id = side_a.record_id
            and side_a.side = 'a'
    left join best_matches as side_b
        on
            identified.dataset = side_b.dataset
            and identified.workspace = side_b.workspace
            and identified.record_id = side_b.record_id
            and side_b.side = 'b'
),

final as (
    select
        dataset,
        workspace,
        record_id,
        question_id,
        case
            when response_1_id <> response_2_id
                then {{ short_id("response_1_id || '|' || response_2_id") }}
        end as pair_id,
        response_a_id,
        response_b_id,
        response_1_id,
        response_2_id,
        -- The record shows the canonical pair the other way round.
        response_a_id > response_b_id as is_swapped,
        is_response_a_counted,
        is_response_b_counted,
        n_response_a_matches,
        n_response_b_matches,
        case
            when response_a_id is null or response_b_id is null then 'unlinkable'
            when response_a_id = response_b_id then 'same_response'
            when not (is_response_a_counted and is_response_b_counted)
                then 'response_not_counted'
        end as link_problem,
        question_text_raw,
        response_a_text,
        response_b_text,
        record_row_sha256,
        {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
    from linked
)

select
    *,
    {{ memo_key_hash_column() }} as memo_key_hash
from final
{%- if memo.previous is not none %}

union all by name

select * from gone
{%- endif %}
