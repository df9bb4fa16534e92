//! Database views and tables made at run time, declared by hand: `diesel print-schema` writes
//! migrated tables only.

diesel::table! {
    /// Migration 000009: a customer with current plan and latest segment.
    customer_views (id) {
        id -> Int8,
        external_id -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        email_consent -> Bool,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        city -> Nullable<Text>,
        age_band -> Nullable<Text>,
        device -> Nullable<Text>,
        acquisition_channel -> Nullable<Text>,
        signup_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        current_plan_id -> Nullable<Int8>,
        current_plan -> Nullable<Jsonb>,
        latest_segment_id -> Nullable<Int8>,
        latest_segment -> Nullable<Jsonb>,
    }
}

diesel::table! {
    /// A run's memberships while they load, before the table becomes the run's partition of
    /// `segment_memberships` (the same columns, in the same order); also the temporary table
    /// an export copies memberships out of (COPY TO takes a plain table, not a partitioned one).
    segment_memberships_loading (customer_id, run_id) {
        run_id -> Int8,
        customer_id -> Int8,
        segment_id -> Int8,
        total_score -> Float8,
        frequency -> Nullable<Int8>,
        minutes -> Nullable<Int8>,
        monetary -> Nullable<Float8>,
        likes -> Nullable<Int8>,
        dislikes -> Nullable<Int8>,
        recency_days -> Nullable<Int4>,
        frequency_score -> Nullable<Float8>,
        minutes_score -> Nullable<Float8>,
        monetary_score -> Nullable<Float8>,
        likes_score -> Nullable<Float8>,
        dislikes_score -> Nullable<Float8>,
        recency_days_score -> Nullable<Float8>,
    }
}
