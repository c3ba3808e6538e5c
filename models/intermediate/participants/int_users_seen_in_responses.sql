with

responses as (
    select * from {{ ref('stg_argilla__responses') }}
    where quarantine_reason is null
),

seen as (
    select
        user_id,
        -- Exports without a users file may carry the username on the response, if at all.
        min(trim(username)) filter (
            where {{ blank_as_null('username') }} is not null
        ) as username
    from responses
    group by user_id
),

final as (
    select
        user_id,
        username
    from seen
)

select * from final
