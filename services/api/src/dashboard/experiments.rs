//! `/experiments`: every experiment with its status and key figures, and `/experiments/new`,
//! the wizard that designs one (its steps run in `assets/wizard.js`, through the API).

use actix_web::{HttpResponse, get};
use askama::Template;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use diesel::{QueryDsl as _, QueryableByName};
use diesel_async::RunQueryDsl as _;
use models::analysis::Recommendation;
use models::enums::Metric;
use models::messaging::MessageTemplate;
use models::schema::message_templates;

use super::error_page::unavailable;
use super::login::html;
use super::signed_in::SignedIn;

#[derive(QueryableByName)]
struct ExperimentRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    phase: Option<String>,
    #[diesel(sql_type = Text)]
    goal_metric: String,
    #[diesel(sql_type = Text)]
    audience: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    assigned: i64,
    #[diesel(sql_type = BigInt)]
    sent: i64,
    #[diesel(sql_type = Nullable<Jsonb>)]
    recommendation: Option<serde_json::Value>,
}

/// The newest 200, each with its counts and the newest analysis's recommendation.
const EXPERIMENTS_SQL: &str = "\
SELECT e.id, e.name, e.status, e.phase, e.goal_metric,
       coalesce(s.name, CASE WHEN e.audience_filter IS NULL THEN 'everyone' ELSE 'a customer filter' END) AS audience,
       e.created_at,
       (SELECT count(*) FROM assignments a WHERE a.experiment_id = e.id) AS assigned,
       (SELECT count(*) FROM messages m WHERE m.experiment_id = e.id AND m.status = 'sent') AS sent,
       (SELECT an.results->'recommendation' FROM analyses an
        WHERE an.experiment_id = e.id ORDER BY an.id DESC LIMIT 1) AS recommendation
FROM experiments e LEFT JOIN segments s ON s.id = e.segment_id
ORDER BY e.id DESC LIMIT 200";

struct Row {
    id: i64,
    name: String,
    status: String,
    phase: String,
    goal_metric: String,
    audience: String,
    created: String,
    assigned: i64,
    sent: i64,
    recommendation: String,
}

#[derive(Template)]
#[template(path = "experiments.html")]
struct ExperimentsPage {
    page: &'static str,
    admin: bool,
    rows: Vec<Row>,
}

#[get("/experiments")]
pub async fn experiments_page(signed_in: SignedIn) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let rows: Vec<ExperimentRow> = match diesel::sql_query(EXPERIMENTS_SQL)
        .load(&mut connection)
        .await
    {
        Ok(rows) => rows,
        Err(error) => return unavailable(&error),
    };
    html(&ExperimentsPage {
        page: "experiments",
        admin: session.is_admin(),
        rows: rows
            .into_iter()
            .map(|row| Row {
                id: row.id,
                name: row.name,
                status: row.status,
                phase: row.phase.unwrap_or_default(),
                goal_metric: row.goal_metric,
                audience: row.audience,
                created: row.created_at.format("%Y-%m-%d").to_string(),
                assigned: row.assigned,
                sent: row.sent,
                recommendation: row
                    .recommendation
                    .and_then(|json| serde_json::from_value::<Recommendation>(json).ok())
                    .map_or("not analysed", |recommendation| {
                        recommendation.decision.words()
                    })
                    .to_owned(),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "experiment_new.html")]
struct NewExperimentPage {
    page: &'static str,
    csrf_token: String,
    admin: bool,
    segments: Vec<(i64, String)>,
    metrics: Vec<&'static str>,
    /// The templates as JSON, for the script to fill variants from.
    templates_json: String,
    templates: Vec<(i64, String)>,
}

#[get("/experiments/new")]
pub async fn new_experiment_page(signed_in: SignedIn) -> HttpResponse {
    let SignedIn {
        session,
        mut connection,
    } = signed_in;
    let segments: Vec<(i64, String)> = match crate::segments::segment_names(&mut connection).await {
        Ok(segments) => segments,
        Err(error) => return unavailable(&error),
    };
    let templates: Vec<MessageTemplate> = match message_templates::table
        .order(message_templates::id)
        .limit(500)
        .load(&mut connection)
        .await
    {
        Ok(templates) => templates,
        Err(error) => return unavailable(&error),
    };
    // Inside a <script> element no "<" may start a tag or comment the HTML parser would
    // act on: every one is written as the JSON escape \u003c.
    let templates_json = serde_json::to_string(&templates)
        .unwrap_or_else(|_| "[]".to_owned())
        .replace('<', "\\u003c");
    html(&NewExperimentPage {
        page: "experiments",
        admin: session.is_admin(),
        csrf_token: session.csrf_token,
        segments,
        metrics: Metric::ALL.iter().map(|metric| metric.as_str()).collect(),
        templates_json,
        templates: templates
            .into_iter()
            .map(|template| (template.id, template.name))
            .collect(),
    })
}
