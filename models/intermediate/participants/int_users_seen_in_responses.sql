{#-
    Row-level memo (macros/memo.sql, `memo_merge`): when the staged responses' last merge is
    all that changed since the last build, only the users of the rows it wrote are looked at
    again; a user left without a response leaves a tombstone (a row without `has_responses`).
    Anything else rebuilds the table. Participants then read a few thousand rows, and are kept
    by a refresh whose new responses come from users already seen under the same name.
-#}
{%- set memo = memo_reusable_rows(
    exclude=['stg_argilla__responses'], changes_from=['stg_argilla__responses']
) -%}
{%- set from_changes = memo.changes is not none -%}
{%- if from_changes %}{{ memo_delta_marker(memo) }}{% endif %}

with

responses as (
    select * from {{ ref('stg_argilla__responses') }}
    where quarantine_reason is null
),

{% if from_changes %}
    -- rlhfw-memo: from upstream changes
    changed_users as (
        select distinct changed_responses.user_id
        from {{ memo.changes['stg_argilla__responses'] }} as changed_responses
    ),
{% endif %}

seen as (
    select
        responses.user_id,
        -- Exports without a users file may carry the username on the response, if at all.
        min(trim(responses.username)) filter (
            where {{ blank_as_null('responses.username') }} is not null
        ) as username
    from responses
    {%- if from_changes %}
        semi join changed_users
            on responses.user_id = changed_users.user_id
    {%- endif %}
    group by responses.user_id
),

final as (
    select
        user_id,
        username,
        true as has_responses,
        {{ memo_fingerprint_column(memo) }} as memo_inputs_fingerprint
    from seen
)

select
    *,
    {{ memo_key_hash_column() }} as memo_key_hash
from final
{%- if from_changes %}

union all by name

select changed_users.user_id
from changed_users
anti join seen
    on changed_users.user_id = seen.user_id
{%- endif %}
