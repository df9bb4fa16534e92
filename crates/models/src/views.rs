//! Database views, declared by hand: `diesel print-schema` writes tables only.

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
