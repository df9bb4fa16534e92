// @generated automatically by Diesel CLI.

diesel::table! {
    analyses (id) {
        id -> Int8,
        experiment_id -> Int8,
        job_id -> Nullable<Int8>,
        method -> Text,
        inputs -> Jsonb,
        results -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Int8,
        name -> Text,
        scope -> Text,
        key_hash -> Bytea,
        key_prefix -> Text,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    assignments (id) {
        id -> Int8,
        experiment_id -> Int8,
        customer_id -> Int8,
        variant_id -> Nullable<Int8>,
        bucket -> Float8,
        phase -> Text,
        assigned_at -> Timestamptz,
        segment_id -> Nullable<Int8>,
    }
}

diesel::table! {
    conversions (id) {
        id -> Int8,
        customer_id -> Int8,
        kind -> Text,
        revenue_cents -> Int8,
        occurred_at -> Timestamptz,
        experiment_id -> Nullable<Int8>,
        message_id -> Nullable<Uuid>,
        source -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    customers (id) {
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
    }
}

diesel::table! {
    events (id) {
        id -> Int8,
        customer_id -> Int8,
        name -> Text,
        occurred_at -> Timestamptz,
        properties -> Jsonb,
    }
}

diesel::table! {
    experiments (id) {
        id -> Int8,
        name -> Text,
        hypothesis -> Text,
        status -> Text,
        phase -> Nullable<Text>,
        goal_metric -> Text,
        guardrail_metrics -> Jsonb,
        segment_id -> Nullable<Int8>,
        audience_filter -> Nullable<Jsonb>,
        salt -> Text,
        holdout_fraction -> Float8,
        test_fraction -> Nullable<Float8>,
        winner_wait_hours -> Nullable<Int4>,
        attribution_window_days -> Int4,
        alpha -> Float8,
        planned_sample_size -> Nullable<Int8>,
        winner_variant_id -> Nullable<Int8>,
        decision -> Nullable<Text>,
        started_at -> Nullable<Timestamptz>,
        stopped_at -> Nullable<Timestamptz>,
        decided_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        no_winner_action -> Text,
        exclusive -> Bool,
        winner_note -> Nullable<Text>,
        winner_picked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    feature_exposures (id) {
        id -> Int8,
        customer_id -> Int8,
        feature -> Text,
        arm -> Text,
        region -> Nullable<Text>,
        exposed_at -> Timestamptz,
    }
}

diesel::table! {
    job_files (id) {
        id -> Int8,
        job_id -> Int8,
        file_name -> Text,
        content -> Bytea,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    jobs (id) {
        id -> Int8,
        kind -> Text,
        status -> Text,
        payload -> Jsonb,
        progress -> Float8,
        counts -> Jsonb,
        error -> Nullable<Text>,
        attempts -> Int4,
        max_attempts -> Int4,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        started_at -> Nullable<Timestamptz>,
        finished_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    message_events (id) {
        id -> Int8,
        message_id -> Uuid,
        kind -> Text,
        occurred_at -> Timestamptz,
        user_agent -> Nullable<Text>,
        ip -> Nullable<Text>,
        link -> Nullable<Text>,
        is_bot -> Bool,
        bot_reason -> Nullable<Text>,
        details -> Jsonb,
    }
}

diesel::table! {
    message_templates (id) {
        id -> Int8,
        name -> Text,
        kind -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        links -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    messages (id) {
        id -> Uuid,
        experiment_id -> Int8,
        customer_id -> Int8,
        variant_id -> Int8,
        email -> Text,
        status -> Text,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        lease_owner -> Nullable<Text>,
        lease_expires_at -> Nullable<Timestamptz>,
        smtp_message_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        queued_at -> Timestamptz,
        sent_at -> Nullable<Timestamptz>,
        opened_at -> Nullable<Timestamptz>,
        clicked_at -> Nullable<Timestamptz>,
        bounced_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    plans (id) {
        id -> Int8,
        name -> Text,
        monthly_price_cents -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    report_snapshots (id) {
        id -> Int8,
        kind -> Text,
        job_id -> Nullable<Int8>,
        computed_at -> Timestamptz,
        duration_ms -> Int4,
        data -> Jsonb,
    }
}

diesel::table! {
    scenario_effects (id) {
        id -> Int8,
        scenario_id -> Int8,
        treatment -> Text,
        metric -> Text,
        true_effect -> Float8,
        scale -> Text,
        description -> Text,
    }
}

diesel::table! {
    scenarios (id) {
        id -> Int8,
        name -> Text,
        seed -> Int8,
        config -> Jsonb,
        job_id -> Nullable<Int8>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    segment_memberships (customer_id, run_id) {
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

diesel::table! {
    segmentation_rule_sets (id) {
        id -> Int8,
        name -> Text,
        scheme -> Text,
        rules -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    segmentation_runs (id) {
        id -> Int8,
        rule_set_id -> Nullable<Int8>,
        job_id -> Nullable<Int8>,
        scheme -> Text,
        rules -> Jsonb,
        window_days -> Nullable<Int4>,
        status -> Text,
        customers_scored -> Int8,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    segments (id) {
        id -> Int8,
        name -> Text,
        description -> Text,
        sort_order -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (token_hash) {
        token_hash -> Bytea,
        key_hash -> Bytea,
        csrf_token -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
    }
}

diesel::table! {
    subscriptions (id) {
        id -> Int8,
        customer_id -> Int8,
        plan_id -> Int8,
        status -> Text,
        started_at -> Timestamptz,
        ended_at -> Nullable<Timestamptz>,
        churned_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    suppressions (id) {
        id -> Int8,
        email -> Text,
        customer_id -> Nullable<Int8>,
        reason -> Text,
        message_id -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    titles (id) {
        id -> Int8,
        name -> Text,
        genre -> Text,
        release_year -> Int4,
        duration_minutes -> Int4,
        rating -> Nullable<Float8>,
        created_at -> Timestamptz,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    variants (id) {
        id -> Int8,
        experiment_id -> Int8,
        key -> Text,
        name -> Text,
        weight -> Float8,
        is_control -> Bool,
        template_id -> Nullable<Int8>,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        links -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    watch_sessions (id) {
        id -> Int8,
        customer_id -> Int8,
        title_id -> Int8,
        started_at -> Timestamptz,
        minutes -> Int4,
        completed -> Bool,
        like_status -> Text,
    }
}

diesel::joinable!(analyses -> experiments (experiment_id));
diesel::joinable!(analyses -> jobs (job_id));
diesel::joinable!(assignments -> customers (customer_id));
diesel::joinable!(assignments -> experiments (experiment_id));
diesel::joinable!(assignments -> segments (segment_id));
diesel::joinable!(assignments -> variants (variant_id));
diesel::joinable!(conversions -> customers (customer_id));
diesel::joinable!(conversions -> experiments (experiment_id));
diesel::joinable!(conversions -> messages (message_id));
diesel::joinable!(events -> customers (customer_id));
diesel::joinable!(experiments -> segments (segment_id));
diesel::joinable!(feature_exposures -> customers (customer_id));
diesel::joinable!(job_files -> jobs (job_id));
diesel::joinable!(message_events -> messages (message_id));
diesel::joinable!(messages -> customers (customer_id));
diesel::joinable!(messages -> experiments (experiment_id));
diesel::joinable!(messages -> variants (variant_id));
diesel::joinable!(report_snapshots -> jobs (job_id));
diesel::joinable!(scenario_effects -> scenarios (scenario_id));
diesel::joinable!(scenarios -> jobs (job_id));
diesel::joinable!(segment_memberships -> customers (customer_id));
diesel::joinable!(segment_memberships -> segmentation_runs (run_id));
diesel::joinable!(segment_memberships -> segments (segment_id));
diesel::joinable!(segmentation_runs -> jobs (job_id));
diesel::joinable!(segmentation_runs -> segmentation_rule_sets (rule_set_id));
diesel::joinable!(subscriptions -> customers (customer_id));
diesel::joinable!(subscriptions -> plans (plan_id));
diesel::joinable!(suppressions -> customers (customer_id));
diesel::joinable!(suppressions -> messages (message_id));
diesel::joinable!(variants -> message_templates (template_id));
diesel::joinable!(watch_sessions -> customers (customer_id));
diesel::joinable!(watch_sessions -> titles (title_id));

diesel::allow_tables_to_appear_in_same_query!(
    analyses,
    api_keys,
    assignments,
    conversions,
    customers,
    events,
    experiments,
    feature_exposures,
    job_files,
    jobs,
    message_events,
    message_templates,
    messages,
    plans,
    report_snapshots,
    scenario_effects,
    scenarios,
    segment_memberships,
    segmentation_rule_sets,
    segmentation_runs,
    segments,
    sessions,
    subscriptions,
    suppressions,
    titles,
    variants,
    watch_sessions,
);
