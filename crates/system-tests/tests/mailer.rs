//! The e-mail experiment end to end, against real processes and a real SMTP exchange:
//! experiments created and started through the api, e-mails delivered by the mailer to an
//! SMTP sink, opens, clicks and conversions made through the tracking links found in the
//! delivered e-mails, and the analysis read back through the api.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use models::assignment::{Placement, bucket, place};
use serde_json::{Value, json};
use testkit::smtp::{Behaviour, ReceivedMessage, SmtpSink};
use testkit::{ADMIN_KEY, Platform, READ_KEY, wait_for_job};

const BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

/// Customers 1-1000 in country AA, 1001-2000 in BB, all consenting; 2001-2010 in AA without
/// consent; 2011 in AA but on the suppression list. Customer 1's first name needs escaping.
const CUSTOMERS: &str = "
INSERT INTO customers (id, first_name, last_name, email, email_consent, country)
SELECT i, CASE WHEN i = 1 THEN 'Ada <b>' ELSE 'C' || i END, 'Test', 'c' || i || '@example.com',
       i <= 2000 OR i = 2011, CASE WHEN i <= 1000 OR i > 2000 THEN 'AA' ELSE 'BB' END
FROM generate_series(1, 2011) i;
INSERT INTO suppressions (email, customer_id, reason) VALUES ('c2011@example.com', 2011, 'manual')
";

fn seed(platform: &Platform, sql: &str) {
    let mut connection = platform.database.connect();
    for statement in sql.split(";\n").filter(|s| !s.trim().is_empty()) {
        diesel::sql_query(statement)
            .execute(&mut connection)
            .unwrap();
    }
}

fn count(platform: &Platform, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut connection = platform.database.connect();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut connection)
        .unwrap()
        .n
}

fn experiment(name: &str, country: &str, salt: &str) -> Value {
    json!({
        "name": name, "goal_metric": "click", "holdout_fraction": 0.1, "salt": salt,
        "audience_filter": {"country": [country]},
        "variants": [
            {"key": "control", "is_control": true, "subject": "Reminder for {{first_name}}",
             "body_text": "Hi {{first_name}}, come back: {{link:home}}",
             "body_html": "<p>Hi {{first_name}}, <a href=\"{{link:home}}\">come back</a></p>",
             "links": {"home": "https://streamlab.example/home"}},
            {"key": "offer", "subject": "Offer for {{first_name}}",
             "body_text": "Hi {{first_name}}, Basic for $10: {{link:offer}}",
             "body_html": "<p>Hi {{first_name}}, <a href=\"{{link:offer}}\">Basic for $10</a></p>",
             "links": {"offer": "https://streamlab.example/offer?plan=basic"}}
        ]
    })
}

struct Api {
    http: reqwest::Client,
    url: String,
}

impl Api {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/api/v1{path}", self.url))
            .bearer_auth(ADMIN_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> Value {
        self.http
            .get(format!("{}/api/v1{path}", self.url))
            .bearer_auth(READ_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn create_and_start(&self, body: Value) -> (i64, Value) {
        let (status, created) = self.post("/experiments", body).await;
        assert_eq!(status, 201, "{created}");
        let id = created["id"].as_i64().unwrap();
        let (status, launch) = self
            .post(&format!("/experiments/{id}/start"), json!({}))
            .await;
        assert_eq!(status, 200, "{launch}");
        (id, launch)
    }

    async fn analyze(&self, id: i64) -> Value {
        let (status, job) = self
            .post(&format!("/experiments/{id}/analyze"), json!({}))
            .await;
        assert_eq!(status, 202, "{job}");
        let done = wait_for_job(
            &self.http,
            &format!("{}/api/v1/jobs", self.url),
            READ_KEY,
            job["id"].as_i64().unwrap(),
        )
        .await;
        assert_eq!(done["status"], "succeeded", "{done}");
        let analyses = self.get(&format!("/experiments/{id}/analyses")).await;
        analyses["items"].as_array().unwrap().last().unwrap()["results"].clone()
    }
}

/// The arm counts assignment must give customers `ids` (the same HMAC, computed in Rust).
fn expected_arms(salt: &str, ids: impl Iterator<Item = i64>) -> [i64; 3] {
    let mut arms = [0; 3];
    for id in ids {
        match place(bucket(salt, id), 0.1, None, &[1.0, 1.0]) {
            Placement::Arm(index) => arms[index] += 1,
            Placement::Holdout => arms[2] += 1,
            Placement::Rest => unreachable!("no test fraction"),
        }
    }
    arms
}

/// The tracked URLs in an e-mail's HTML part, by what they are.
fn tracked_urls(message: &ReceivedMessage) -> HashMap<&'static str, String> {
    let html = message
        .body_parts()
        .into_iter()
        .find(|(kind, _)| kind == "text/html")
        .map(|(_, body)| body)
        .expect("an HTML part");
    let mut urls = HashMap::new();
    for piece in html.split('"') {
        let url = piece.replace("&amp;", "&");
        for (marker, kind) in [
            ("/t/o/", "open"),
            ("/t/c/", "click"),
            ("/t/h/", "honeypot"),
            ("/u/", "unsubscribe"),
        ] {
            if url.starts_with("http") && url.contains(marker) {
                urls.insert(kind, url.clone());
            }
        }
    }
    urls
}

fn customer_of(message: &ReceivedMessage) -> i64 {
    let to = &message.to[0];
    to.trim_start_matches('<')
        .trim_start_matches('c')
        .split('@')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// A stable pseudo-random draw in 0..100 for customer `id`.
fn draw(id: i64, salt: i64) -> i64 {
    ((id * 2_654_435_761 + salt * 40_503) % 1_000_003) % 100
}

/// What the simulated readers did, per variant key: human opens, human clicks, conversions.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Engagement {
    opens: i64,
    clicks: i64,
    conversions: i64,
}

/// Opens (60%), clicks (`click_percent` by variant), conversions (half the clickers) through
/// the real links of each delivered e-mail, as a browser would; plus a link scanner on every
/// tenth e-mail (HEAD, then the honeypot), which the analysis must not count.
async fn engage(
    messages: &[ReceivedMessage],
    click_percent: &dyn Fn(&str) -> i64,
) -> HashMap<String, Engagement> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(BROWSER)
        .build()
        .unwrap();
    let mut by_variant: HashMap<String, Engagement> = HashMap::new();
    for message in messages {
        let subject = message.header("Subject").unwrap();
        let variant = if subject.starts_with("Offer") {
            "offer"
        } else {
            "control"
        };
        let id = customer_of(message);
        let urls = tracked_urls(message);
        let engagement = by_variant.entry(variant.to_owned()).or_default();
        if draw(id, 1) < 60 {
            let pixel = http.get(&urls["open"]).send().await.unwrap();
            assert_eq!(pixel.status(), 200);
            assert_eq!(pixel.headers()["content-type"], "image/gif");
            engagement.opens += 1;
        }
        if id % 10 == 0 {
            let head = http.head(&urls["click"]).send().await.unwrap();
            assert_eq!(head.status(), 302);
            let trap = http.get(&urls["honeypot"]).send().await.unwrap();
            assert_eq!(trap.status(), 204);
        }
        if draw(id, 2) < click_percent(variant) {
            let click = http.get(&urls["click"]).send().await.unwrap();
            assert_eq!(click.status(), 302);
            let location = click.headers()["location"].to_str().unwrap().to_owned();
            assert!(
                location.starts_with("https://streamlab.example/"),
                "{location}"
            );
            engagement.clicks += 1;
            if id % 2 == 0 {
                let token = location.split("streamlab_token=").nth(1).unwrap();
                let base = urls["click"].split("/t/c/").next().unwrap();
                let converted = http
                    .post(format!("{base}/t/v/{token}"))
                    .json(&json!({"kind": "upgrade", "revenue_cents": 1000}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(converted.status(), 204);
                engagement.conversions += 1;
            }
        }
    }
    by_variant
}

fn goal_comparison(report: &Value) -> &Value {
    let goal = report["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["goal"] == true)
        .unwrap();
    assert_eq!(goal["metric"], "click");
    &goal["comparisons"][0]
}

fn arm<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["arms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|arm| arm["key"] == key)
        .unwrap()
}

#[tokio::test]
async fn an_email_experiment_runs_end_to_end_and_finds_the_planted_difference() {
    let sink = SmtpSink::start().await.unwrap();
    let smtp_url = sink.url();
    let platform = Platform::start_with(&[("SMTP_URL", &smtp_url), ("MAILER_POLL_MS", "50")]).await;
    seed(&platform, CUSTOMERS);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };

    // Planted: the offer is clicked three times as often as the reminder.
    let salt = "planted-salt-000000000001";
    let (planted, launch) = api
        .create_and_start(experiment("Planted", "AA", salt))
        .await;
    let arms = expected_arms(salt, 1..=1000);
    let assigned: Vec<i64> = launch["arms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arm| arm["assigned"].as_i64().unwrap())
        .collect();
    // Arms in variant-id order, then the holdout (variant_id null sorts last): the SQL split is
    // the Rust split. No-consent (2001-2010) and suppressed (2011) customers are not in it.
    assert_eq!(assigned, [arms[0], arms[1], arms[2]], "{launch}");
    assert_eq!(launch["assigned"], 1000);
    assert_eq!(launch["queued"], arms[0] + arms[1]);
    let (again, _) = api
        .post(&format!("/experiments/{planted}/start"), json!({}))
        .await;
    assert_eq!(again, 409, "a running experiment cannot start again");

    let delivered = sink
        .wait_for((arms[0] + arms[1]) as usize, Duration::from_secs(60))
        .await
        .unwrap();
    // A click within two seconds of delivery is a scanner's (the last e-mail left a moment
    // ago); people are given their time.
    let scanned = tracked_urls(delivered.last().unwrap());
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(BROWSER)
        .build()
        .unwrap();
    assert_eq!(
        plain.get(&scanned["click"]).send().await.unwrap().status(),
        302
    );
    assert_eq!(
        count(
            &platform,
            "SELECT count(*) AS n FROM message_events WHERE kind = 'click' AND bot_reason = 'click_within_2s_of_delivery'"
        ),
        1
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;

    // The e-mail as sent: escaped values in HTML, one-click unsubscribe, the ledger's id.
    let ada = delivered
        .iter()
        .find(|m| customer_of(m) == 1)
        .expect("customer 1 was e-mailed");
    {
        let parts = ada.body_parts();
        let html = &parts
            .iter()
            .find(|(kind, _)| kind == "text/html")
            .unwrap()
            .1;
        let text = &parts
            .iter()
            .find(|(kind, _)| kind == "text/plain")
            .unwrap()
            .1;
        assert!(html.contains("Hi Ada &lt;b&gt;,"), "{html}");
        assert!(text.contains("Hi Ada <b>,"), "{text}");
        assert_eq!(
            ada.header("List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
        assert!(ada.header("List-Unsubscribe").unwrap().contains("/u/"));
        let message_id = ada.header("Message-ID").unwrap();
        assert_eq!(
            count(
                &platform,
                &format!(
                    "SELECT count(*) AS n FROM messages WHERE smtp_message_id = '{message_id}'"
                )
            ),
            1
        );
    }

    // A forged or altered token records nothing.
    let events_before = count(&platform, "SELECT count(*) AS n FROM message_events");
    let genuine = tracked_urls(&delivered[0]);
    let forged = format!(
        "{}0",
        &genuine["click"][..genuine["click"].rfind('/').unwrap()]
    );
    let link_base = &genuine["click"][..genuine["click"].rfind('/').unwrap()];
    let open_token = genuine["open"].rsplit('/').next().unwrap();
    for url in [
        genuine["open"].replace("/t/o/t1.", "/t/o/t1.0"),
        format!("{forged}/home"),
        genuine["click"].replace("/t/c/t1.", "/t/c/x9."),
        // A genuine token, but a link its template does not have.
        format!("{link_base}/elsewhere"),
        // A genuine token, but for opens, not clicks or unsubscribes.
        genuine["click"].replace(link_base.rsplit('/').next().unwrap(), open_token),
        genuine["unsubscribe"].replace(
            genuine["unsubscribe"].rsplit('/').next().unwrap(),
            open_token,
        ),
    ] {
        assert_eq!(plain.get(&url).send().await.unwrap().status(), 404, "{url}");
    }
    assert_eq!(
        count(&platform, "SELECT count(*) AS n FROM message_events"),
        events_before
    );

    let engagement = engage(&delivered, &|variant| {
        if variant == "offer" { 30 } else { 10 }
    })
    .await;
    let report = api.analyze(planted).await;
    for key in ["control", "offer"] {
        let counts = arm(&report, key);
        let expected = engagement[key];
        assert_eq!(counts["unique_opens"], expected.opens, "{key}: {counts}");
        assert_eq!(
            counts["unique_human_clicks"], expected.clicks,
            "{key}: {counts}"
        );
        assert_eq!(
            counts["conversions"], expected.conversions,
            "{key}: {counts}"
        );
    }
    let comparison = goal_comparison(&report);
    assert_eq!(comparison["variant"], "offer");
    assert_eq!(comparison["significant"], true, "{comparison}");
    assert!(
        comparison["relative_lift"].as_f64().unwrap() > 1.0,
        "{comparison}"
    );
    let scanners = count(
        &platform,
        "SELECT count(*) AS n FROM message_events WHERE kind = 'click' AND is_bot",
    );
    // HEAD and honeypot hits of every tenth e-mail, and the click within two seconds.
    assert_eq!(
        scanners,
        1 + 2 * delivered
            .iter()
            .filter(|m| customer_of(m) % 10 == 0)
            .count() as i64
    );

    // The same flow with no difference planted finds none (a fixed salt: the same split and
    // readers every run).
    let (null, _) = api
        .create_and_start(experiment("A/A", "BB", "null-salt-00000000000001"))
        .await;
    let queued = count(
        &platform,
        &format!("SELECT count(*) AS n FROM messages WHERE experiment_id = {null}"),
    );
    let all = sink
        .wait_for(delivered.len() + queued as usize, Duration::from_secs(60))
        .await
        .unwrap();
    let fresh: Vec<ReceivedMessage> = all.into_iter().skip(delivered.len()).collect();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    engage(&fresh, &|_| 20).await;
    let report = api.analyze(null).await;
    let comparison = goal_comparison(&report);
    assert_eq!(comparison["significant"], false, "{comparison}");
    assert!(
        comparison["p_value"].as_f64().unwrap() > 0.05,
        "{comparison}"
    );

    // Unsubscribing: GET asks, POST (the RFC 8058 one-click form) does it.
    let urls = tracked_urls(&fresh[0]);
    let header = fresh[0].header("List-Unsubscribe").unwrap();
    assert_eq!(
        header,
        format!("<{}>", urls["unsubscribe"]),
        "the footer's link is the header's"
    );
    let page = plain.get(&urls["unsubscribe"]).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form method=\"post\""));
    let email = fresh[0].to[0]
        .trim_matches(|c| c == '<' || c == '>')
        .to_owned();
    assert_eq!(
        count(
            &platform,
            &format!("SELECT count(*) AS n FROM suppressions WHERE email = '{email}'")
        ),
        0
    );
    let done = plain
        .post(&urls["unsubscribe"])
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM suppressions WHERE email = '{email}' AND reason = 'unsubscribe'"
            )
        ),
        1
    );

    // The lifecycle's illegal moves are 409; the legal ones go through.
    assert_eq!(
        api.post(&format!("/experiments/{null}/resume"), json!({}))
            .await
            .0,
        409
    );
    assert_eq!(
        api.post(
            &format!("/experiments/{null}/decide"),
            json!({"decision": "x"})
        )
        .await
        .0,
        409
    );
    assert_eq!(
        api.post(&format!("/experiments/{null}/stop"), json!({}))
            .await
            .0,
        200
    );
    let (status, decided) = api
        .post(
            &format!("/experiments/{null}/decide"),
            json!({"decision": "No difference: keep the reminder"}),
        )
        .await;
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "decided");
    let delivery = api.get(&format!("/experiments/{planted}/delivery")).await;
    assert_eq!(
        delivery["by_status"]["sent"],
        arms[0] + arms[1],
        "{delivery}"
    );
}

/// Polls until `sql` counts `target` (or fails after `timeout`).
async fn wait_count(platform: &Platform, sql: &str, target: i64, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        let now = count(platform, sql);
        if now >= target {
            return;
        }
        assert!(Instant::now() < deadline, "{sql}: {now} of {target}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Recipients who got more than one e-mail of the campaign, and how many got none.
fn duplicates_and_missing(messages: &[ReceivedMessage], recipients: i64) -> (i64, i64) {
    let mut per_recipient: HashMap<&str, i64> = HashMap::new();
    for message in messages {
        *per_recipient.entry(message.to[0].as_str()).or_default() += 1;
    }
    let duplicates = per_recipient.values().map(|n| n - 1).sum();
    (duplicates, recipients - per_recipient.len() as i64)
}

const SLOW_CAMPAIGN: &str = "
INSERT INTO customers (id, first_name, last_name, email, email_consent)
SELECT i, 'C' || i, 'Test', 'c' || i || '@example.com', true FROM generate_series(1, 3000) i
";

fn campaign() -> Value {
    json!({
        "name": "Campaign", "goal_metric": "open",
        "variants": [
            {"key": "a", "is_control": true, "subject": "A {{first_name}}", "body_text": "a", "body_html": "<p>a</p>"},
            {"key": "b", "subject": "B {{first_name}}", "body_text": "b", "body_html": "<p>b</p>"}
        ]
    })
}

/// Settings that keep a campaign in flight long enough to interrupt it: a sink answering each
/// message after 4 ms, two connections, small batches, a short lease.
fn slow_sending(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("SMTP_URL", sink.url()),
        ("MAILER_CONNECTIONS", "2".to_owned()),
        ("MAILER_BATCH", "40".to_owned()),
        ("MAILER_LEASE_MS", "1500".to_owned()),
        ("MAILER_POLL_MS", "50".to_owned()),
    ]
}

async fn slow_sink() -> SmtpSink {
    SmtpSink::start_with(Behaviour {
        delay_per_message: Some(Duration::from_millis(4)),
        ..Behaviour::default()
    })
    .await
    .unwrap()
}

fn as_pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

#[tokio::test]
async fn a_mailer_killed_mid_campaign_resumes_and_duplicates_only_what_was_in_flight() {
    let sink = slow_sink().await;
    let settings = slow_sending(&sink);
    let mut platform = Platform::start_with(&as_pairs(&settings)).await;
    seed(&platform, SLOW_CAMPAIGN);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };
    let (_, launch) = api.create_and_start(campaign()).await;
    assert_eq!(launch["queued"], 3000);

    // Mid-batch: 20 batches of 40 are done, the 21st is on the wire.
    sink.wait_for(810, Duration::from_secs(60)).await.unwrap();
    platform.mailer.kill();
    let (in_flight, accepted_unrecorded) = claims_at_kill(&platform, &sink).await;
    let delivered_at_kill = sink.count();
    assert!(delivered_at_kill < 3000, "the kill came after the campaign");

    let _restarted = platform.spawn_mailer().await;
    wait_count(
        &platform,
        "SELECT count(*) AS n FROM messages WHERE status = 'sent'",
        3000,
        Duration::from_secs(90),
    )
    .await;
    let received = sink.messages();
    let (duplicates, missing) = duplicates_and_missing(&received, 3000);
    println!(
        "killed after {delivered_at_kill} deliveries with {in_flight} messages claimed, \
         {accepted_unrecorded} of them already accepted by the server; duplicates after restart: {duplicates}"
    );
    assert_eq!(missing, 0, "every recipient got the e-mail");
    assert_eq!(
        duplicates, accepted_unrecorded,
        "only what the server took before the ledger knew goes twice"
    );
    assert!(accepted_unrecorded <= in_flight);
}

/// After a kill: the messages it had claimed, and how many of those the server had already
/// taken (those alone may go twice: the ledger never learnt they went).
async fn claims_at_kill(platform: &Platform, sink: &SmtpSink) -> (i64, i64) {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Text)]
        smtp_message_id: String,
    }
    // The sink finishes the transactions whose data had arrived.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut connection = platform.database.connect();
    let claimed: Vec<String> =
        diesel::sql_query("SELECT smtp_message_id FROM messages WHERE status = 'sending'")
            .load::<Id>(&mut connection)
            .unwrap()
            .into_iter()
            .map(|row| row.smtp_message_id)
            .collect();
    let received: std::collections::HashSet<String> = sink
        .messages()
        .iter()
        .filter_map(|message| message.header("Message-ID"))
        .collect();
    let taken = claimed.iter().filter(|id| received.contains(*id)).count();
    (claimed.len() as i64, taken as i64)
}

#[tokio::test]
async fn stopping_mid_campaign_leaves_nothing_queued_or_on_the_wire() {
    let sink = slow_sink().await;
    let settings = slow_sending(&sink);
    let mut platform = Platform::start_with(&as_pairs(&settings)).await;
    seed(&platform, SLOW_CAMPAIGN);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };
    let (id, _) = api.create_and_start(campaign()).await;
    sink.wait_for(500, Duration::from_secs(60)).await.unwrap();
    // A mailer dies holding claims; the experiment is stopped; another mailer comes.
    platform.mailer.kill();
    let (in_flight, accepted_unrecorded) = claims_at_kill(&platform, &sink).await;
    assert!(in_flight > 0);
    let (status, stopped) = api
        .post(&format!("/experiments/{id}/stop"), json!({}))
        .await;
    assert_eq!(status, 200, "{stopped}");
    let _replacement = platform.spawn_mailer().await;
    let unsettled = "SELECT count(*) AS n FROM messages WHERE status IN ('queued', 'sending')";
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&platform, unsettled) > 0 {
        assert!(
            Instant::now() < deadline,
            "messages left queued or sending after the stop"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let delivered = sink.count();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(sink.count(), delivered, "nothing leaves after the stop");
    assert!(delivered < 3000);
    let sent = count(
        &platform,
        "SELECT count(DISTINCT email) AS n FROM messages WHERE status = 'sent'",
    );
    let cancelled = count(
        &platform,
        "SELECT count(*) AS n FROM messages WHERE status = 'cancelled'",
    );
    assert_eq!(sent + cancelled, 3000);
    let (duplicates, missing) = duplicates_and_missing(&sink.messages(), 3000);
    assert_eq!(duplicates, 0);
    // The ledger's sends are the sink's recipients, but for those the server took in the
    // killed mailer's last moment: the ledger cancelled them, not knowing they went.
    assert_eq!(3000 - missing, sent + accepted_unrecorded);
}

#[tokio::test]
async fn pause_and_resume_send_no_duplicate() {
    let sink = slow_sink().await;
    let settings = slow_sending(&sink);
    let platform = Platform::start_with(&as_pairs(&settings)).await;
    seed(&platform, SLOW_CAMPAIGN);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };
    let (id, _) = api.create_and_start(campaign()).await;
    sink.wait_for(500, Duration::from_secs(60)).await.unwrap();
    let (status, paused) = api
        .post(&format!("/experiments/{id}/pause"), json!({}))
        .await;
    assert_eq!(status, 200, "{paused}");
    // What was claimed before the pause finishes; then nothing moves.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        count(
            &platform,
            "SELECT count(*) AS n FROM messages WHERE status = 'sending'"
        ),
        0,
        "a paused experiment's claims go back to the queue"
    );
    let while_paused = sink.count();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(sink.count(), while_paused, "nothing leaves while paused");
    assert!(while_paused < 3000);
    assert_eq!(
        api.post(&format!("/experiments/{id}/pause"), json!({}))
            .await
            .0,
        409
    );

    let (status, _) = api
        .post(&format!("/experiments/{id}/resume"), json!({}))
        .await;
    assert_eq!(status, 200);
    let received = sink.wait_for(3000, Duration::from_secs(60)).await.unwrap();
    let (duplicates, missing) = duplicates_and_missing(&received, 3000);
    assert_eq!((duplicates, missing), (0, 0));
}

#[tokio::test]
async fn three_mailers_share_a_campaign_with_no_duplicate() {
    let sink = slow_sink().await;
    let settings = slow_sending(&sink);
    let platform = Platform::start_with(&as_pairs(&settings)).await;
    let _second = platform.spawn_mailer().await;
    let _third = platform.spawn_mailer().await;
    seed(&platform, SLOW_CAMPAIGN);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };
    api.create_and_start(campaign()).await;
    let received = sink.wait_for(3000, Duration::from_secs(90)).await.unwrap();
    wait_count(
        &platform,
        "SELECT count(*) AS n FROM messages WHERE status = 'sent'",
        3000,
        Duration::from_secs(30),
    )
    .await;
    let (duplicates, missing) = duplicates_and_missing(&received, 3000);
    assert_eq!((duplicates, missing), (0, 0));
    let senders = count(
        &platform,
        "SELECT count(DISTINCT lease_owner) AS n FROM messages WHERE status = 'sent'",
    );
    assert_eq!(senders, 3, "every mailer took part");
}

#[tokio::test]
async fn an_smtp_server_out_of_reach_costs_no_attempt_and_loses_nothing() {
    // Nothing listens there: every connection is refused. One attempt allowed, so a refused
    // connection counted as an attempt would fail the whole campaign at once.
    let out_of_reach = format!("smtp://127.0.0.1:{}", testkit::process::free_port());
    let mut platform = Platform::start_with(&[
        ("SMTP_URL", out_of_reach.as_str()),
        ("MAILER_MAX_ATTEMPTS", "1"),
        ("MAILER_RETRY_MS", "10"),
        ("MAILER_LEASE_MS", "1500"),
        ("MAILER_POLL_MS", "50"),
    ])
    .await;
    seed(&platform, SLOW_CAMPAIGN);
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };
    api.create_and_start(campaign()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        count(
            &platform,
            "SELECT count(*) AS n FROM messages WHERE status NOT IN ('queued', 'sending') OR attempts > 1"
        ),
        0,
        "nothing failed, nothing spent an attempt beyond its claim"
    );

    // A mailer that reaches a server sends all of it, once.
    let sink = SmtpSink::start().await.unwrap();
    let _reaching = platform
        .spawn_mailer_with(&[("SMTP_URL", sink.url().as_str())])
        .await;
    platform.mailer.kill();
    let received = sink.wait_for(3000, Duration::from_secs(60)).await.unwrap();
    let (duplicates, missing) = duplicates_and_missing(&received, 3000);
    assert_eq!((duplicates, missing), (0, 0));
}

/// A delivery status notification as Postfix writes it, for the message `message_id`.
fn dsn(message_id: &str, recipient: &str) -> String {
    format!(
        "From: MAILER-DAEMON@mx.example.com\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <bounce-1@mx.example.com>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
         --B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n\r\n\
         --B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n\r\n\
         Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected\r\n\r\n\
         --B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n\
         Subject: A test\r\n\r\n--B--\r\n"
    )
}

fn arf(message_id: &str) -> String {
    format!(
        "From: abuse@provider.example\r\nMessage-ID: <arf-1@provider.example>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n\
         --F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n\r\n\
         --F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n\
         User-Agent: provider/1.0\r\nVersion: 1\r\n\r\n\
         --F\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: {message_id}\r\nSubject: A test\r\n\r\nbody\r\n--F--\r\n"
    )
}

#[tokio::test]
async fn bounces_test_messages_and_test_then_winner() {
    // The test group, by the assignment rule; of it, the first address does not exist
    // (550 5.1.1) and the second one's server keeps saying "later" (451).
    let salt = "test-then-winner-salt-01";
    let test_group: Vec<i64> = (1..=400)
        .filter(|id| {
            matches!(
                place(bucket(salt, *id), 0.0, Some(0.25), &[1.0, 1.0]),
                Placement::Arm(_)
            )
        })
        .collect();
    let (missing, later) = (test_group[0], test_group[1]);
    let (missing_address, later_address) = (
        format!("c{missing}@example.com"),
        format!("c{later}@example.com"),
    );
    let sink = SmtpSink::start_with(Behaviour {
        rcpt_rule: std::sync::Arc::new(move |address: &str| {
            if address == missing_address {
                testkit::smtp::RcptReply::Reject(550, "5.1.1 no such user".to_owned())
            } else if address == later_address {
                testkit::smtp::RcptReply::Reject(451, "4.3.0 try again later".to_owned())
            } else {
                testkit::smtp::RcptReply::Accept
            }
        }),
        ..Behaviour::default()
    })
    .await
    .unwrap();
    let smtp_url = sink.url();
    let platform = Platform::start_with(&[
        ("SMTP_URL", &smtp_url),
        ("MAILER_POLL_MS", "50"),
        ("MAILER_RETRY_MS", "100"),
        ("MAILER_MAX_ATTEMPTS", "3"),
        ("MAILER_FREQUENCY_CAP", "1"),
    ])
    .await;
    seed(
        &platform,
        "INSERT INTO customers (id, first_name, last_name, email, email_consent)
         SELECT i, 'C' || i, 'Test', 'c' || i || '@example.com', true FROM generate_series(1, 400) i",
    );
    let api = Api {
        http: reqwest::Client::new(),
        url: platform.api.url.clone(),
    };

    // The test message checks the transport; a bad address is named.
    let (status, sent) = api
        .post("/mail/test-message", json!({"to": "ops@example.com"}))
        .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["transport"], smtp_url);
    let (status, problem) = api
        .post("/mail/test-message", json!({"to": "not an address"}))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "to");

    // Test then winner: a quarter of the audience first; no engagement, so no winner, and
    // this experiment sends the rest nothing.
    let mut design = campaign();
    design["test_fraction"] = json!(0.25);
    design["no_winner_action"] = json!("nothing");
    design["salt"] = json!(salt);
    let (first, launch) = api.create_and_start(design).await;
    assert_eq!(launch["phase"], "test");
    assert_eq!(launch["queued"], test_group.len());
    let test_group = test_group.len() as i64;
    let settled = format!(
        "SELECT count(*) AS n FROM messages WHERE experiment_id = {first} AND status IN ('sent', 'failed')"
    );
    wait_count(&platform, &settled, test_group, Duration::from_secs(30)).await;
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM suppressions WHERE email = 'c{missing}@example.com' AND reason = 'hard_bounce'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM messages WHERE customer_id = {missing} AND status = 'failed' AND last_error LIKE '%5.1.1%'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM message_events e JOIN messages m ON m.id = e.message_id WHERE m.customer_id = {missing} AND e.kind = 'bounce'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM messages WHERE customer_id = {later} AND status = 'failed' AND attempts = 3 AND last_error LIKE '%4.3.0%'"
            )
        ),
        1
    );
    assert_eq!(
        count(
            &platform,
            &format!("SELECT count(*) AS n FROM suppressions WHERE email = 'c{later}@example.com'")
        ),
        0
    );
    assert_eq!(
        sink.count() as i64,
        1 + test_group - 2,
        "the test message and the test group but the two refused"
    );
    let (status, pick) = api
        .post(&format!("/experiments/{first}/winner"), json!({}))
        .await;
    assert_eq!(status, 200, "{pick}");
    assert_eq!(pick["queued"], 0);
    let experiment = api.get(&format!("/experiments/{first}")).await;
    assert_eq!(experiment["phase"], "winner");
    assert!(
        experiment["winner_note"]
            .as_str()
            .unwrap()
            .starts_with("no winner"),
        "{experiment}"
    );
    assert_eq!(experiment["winner_variant_id"], Value::Null);
    assert_eq!(
        api.post(&format!("/experiments/{first}/winner"), json!({}))
            .await
            .0,
        409
    );

    // A second one, not exclusive but under a cap of one e-mail a week, picked by hand.
    let mut design = campaign();
    design["name"] = json!("Second");
    design["test_fraction"] = json!(0.5);
    design["exclusive"] = json!(false);
    let (second, launch) = api.create_and_start(design).await;
    assert!(launch["queued"].as_i64().unwrap() > 0);
    let capped = count(
        &platform,
        &format!(
            "SELECT count(*) AS n FROM assignments a JOIN messages m ON m.customer_id = a.customer_id
             WHERE a.experiment_id = {second} AND m.experiment_id = {first} AND m.status <> 'failed'"
        ),
    );
    assert_eq!(
        capped, 0,
        "nobody over the frequency cap is in the audience"
    );
    let b = api.get(&format!("/experiments/{second}")).await["variants"][1]["id"]
        .as_i64()
        .unwrap();
    let (status, pick) = api
        .post(
            &format!("/experiments/{second}/winner"),
            json!({"variant_id": b}),
        )
        .await;
    assert_eq!(status, 200, "{pick}");
    let rest = pick["queued"].as_i64().unwrap();
    assert!(rest > 0);
    let winner_phase = count(
        &platform,
        &format!(
            "SELECT count(*) AS n FROM assignments WHERE experiment_id = {second} AND phase = 'winner' AND variant_id = {b}"
        ),
    );
    assert_eq!(winner_phase, rest, "the rest all get the pick");
    assert_eq!(
        api.get(&format!("/experiments/{second}")).await["winner_variant_id"],
        b
    );

    // Bounces and complaints reported later: matched by the Message-ID they quote.
    let delivered = sink.wait_for(3, Duration::from_secs(30)).await.unwrap();
    let campaign_mail: Vec<&ReceivedMessage> = delivered
        .iter()
        .filter(|m| m.to[0] != "ops@example.com")
        .collect();
    let report = |body: String, content_type: &'static str| {
        let http = api.http.clone();
        let url = format!("{}/v1/bounces", platform.mailer.url);
        async move {
            let response = http
                .post(url)
                .bearer_auth(testkit::SERVICE_TOKEN)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let bounced = campaign_mail[0];
    let address = bounced.to[0].clone();
    let (status, recorded) = report(
        dsn(&bounced.header("Message-ID").unwrap(), &address),
        "multipart/report",
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
    assert_eq!(recorded["outcome"], "hard_bounce");
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM suppressions WHERE email = '{address}' AND reason = 'hard_bounce'"
            )
        ),
        1
    );
    let complained = campaign_mail[1];
    let (status, recorded) = report(
        arf(&complained.header("Message-ID").unwrap()),
        "message/rfc822",
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
    assert_eq!(recorded["outcome"], "complaint");
    let address = complained.to[0].clone();
    assert_eq!(
        count(
            &platform,
            &format!(
                "SELECT count(*) AS n FROM suppressions WHERE email = '{address}' AND reason = 'complaint'"
            )
        ),
        1
    );
    let soft = campaign_mail[2];
    let (status, recorded) = report(
        json!({"message_id": soft.header("Message-ID").unwrap(), "outcome": "soft_bounce"})
            .to_string(),
        "application/json",
    )
    .await;
    assert_eq!(
        (status, recorded["suppressed"].clone()),
        (200, json!(false))
    );
    let (status, _) = report(dsn("<nobody@nowhere>", "x@example.com"), "multipart/report").await;
    assert_eq!(status, 404);
    let (status, problem) = report("hello".to_owned(), "text/plain").await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "body");
    // A NUL character, which PostgreSQL cannot store: the field is named in a 422, and a raw
    // report carrying one is read without it.
    let (status, problem) = report(
        json!({"message_id": soft.header("Message-ID").unwrap(), "outcome": "soft_bounce",
               "diagnostic": "bad\u{0}byte"})
        .to_string(),
        "application/json",
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["field"], "diagnostic");
    let late = campaign_mail[3];
    let (status, recorded) = report(
        dsn(&late.header("Message-ID").unwrap(), &late.to[0])
            .replace("Diagnostic-Code: ", "Diagnostic-Code: \0"),
        "multipart/report",
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
    // And a bounce named by address alone finds the newest e-mail to it.
    let (status, recorded) = report(
        json!({"email": campaign_mail[4].to[0].to_uppercase(), "outcome": "soft_bounce"})
            .to_string(),
        "application/json",
    )
    .await;
    assert_eq!(status, 200, "{recorded}");
}
