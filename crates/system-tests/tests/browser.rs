//! The dashboard in a real browser: headless Chromium driven through chromedriver (Debian's
//! `chromium` and `chromium-driver`, which `scripts/test` installs when missing) against the
//! four services as processes on a synthetic business. Every page is opened, checked for
//! console errors and for charts that drew something, and saved as a screenshot under
//! `target/screenshots/`; a customer is added through the form, segmentation is run from its
//! button, an experiment is designed in the wizard and started, and its results are read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use testkit::ADMIN_KEY;
use testkit::process::{Platform, binary, free_port};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// chromedriver's log of the browser's console (a Chromium extension of WebDriver).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"type": "browser"}).to_string()),
        )
    }
}

/// Headless Chromium under its own chromedriver, killed when dropped.
struct Browser {
    client: Client,
    driver: Child,
    base: String,
    screenshots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    async fn start(base: &str) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (scripts/test does)"
            );
        }
        let port = free_port();
        let profile = std::env::temp_dir().join(format!("streamlab-chromium-{port}"));
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())],
            }),
        );
        capabilities.insert("goog:loggingPrefs".to_owned(), json!({"browser": "ALL"}));
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if Instant::now() < deadline => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(error) => panic!("cannot open a browser session: {error}"),
            }
        };
        let screenshots = testkit::database::workspace_root().join("target/screenshots");
        std::fs::create_dir_all(&screenshots).unwrap();
        Browser {
            client,
            driver,
            base: base.to_owned(),
            screenshots,
        }
    }

    /// Opens `path` and waits for the page to have loaded.
    async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
        self.wait_for_css("main").await;
    }

    async fn wait_for_css(&self, selector: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("{selector} never appeared: {error}"))
    }

    /// Waits until the script `condition` (an expression) is true in the page.
    async fn wait_until(&self, condition: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let value = self
                .client
                .execute(&format!("return Boolean({condition});"), vec![])
                .await;
            if matches!(value, Ok(Value::Bool(true))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "never true: {condition} (page: {})",
                self.client.current_url().await.unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn script(&self, expression: &str) -> Value {
        self.client
            .execute(&format!("return {expression};"), vec![])
            .await
            .unwrap()
    }

    async fn text_of(&self, selector: &str) -> String {
        self.wait_for_css(selector).await.text().await.unwrap()
    }

    async fn fill(&self, selector: &str, value: &str) {
        let field = self.wait_for_css(selector).await;
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn click(&self, selector: &str) {
        self.wait_for_css(selector).await.click().await.unwrap();
    }

    /// Chooses the option of a select by its value, and lets the page hear the change.
    async fn choose(&self, selector: &str, value: &str) {
        self.client
            .execute(
                "const select = document.querySelector(arguments[0]); select.value = arguments[1];\
                 select.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![json!(selector), json!(value)],
            )
            .await
            .unwrap();
    }

    /// The console's errors since the last call (the log is drained as it is read).
    async fn console_errors(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.unwrap();
        entries
            .as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Asserts the page logged no error, that every chart on it drew marks, and saves it.
    async fn check_and_save(&self, name: &str) {
        self.check_and_save_expecting(name, None).await;
    }

    /// As `check_and_save`, where the one console error allowed is the browser's note of a
    /// refused request the test made on purpose (`expected` is in its text).
    async fn check_and_save_expecting(&self, name: &str, expected: Option<&str>) {
        let errors: Vec<String> = self
            .console_errors()
            .await
            .into_iter()
            .filter(|error| !expected.is_some_and(|expected| error.contains(expected)))
            .collect();
        assert!(errors.is_empty(), "{name}: console errors {errors:?}");
        let empty_charts = self
            .script(
                "[...document.querySelectorAll('svg.chart')]\
                 .filter(svg => svg.querySelectorAll('rect.bar, polyline.line, circle.point').length === 0\
                                || svg.getBoundingClientRect().height < 50)\
                 .map(svg => svg.getAttribute('aria-label'))",
            )
            .await;
        assert_eq!(empty_charts, json!([]), "{name}: charts without marks");
        let overflow = self
            .script("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            .await;
        assert!(
            overflow.as_i64().unwrap_or(0) <= 0,
            "{name}: the page is wider than the window by {overflow}px"
        );
        // The whole page in one picture: the window grown to the page's height, then back.
        let (width, height) = self.client.get_window_size().await.unwrap();
        let page_height = self
            .script("document.documentElement.scrollHeight")
            .await
            .as_u64()
            .unwrap_or(900)
            .min(6000) as u32;
        if u64::from(page_height) > height {
            self.client
                .set_window_size(width as u32, page_height + 140)
                .await
                .unwrap();
        }
        let png = self.client.screenshot().await.unwrap();
        self.client
            .set_window_size(width as u32, height as u32)
            .await
            .unwrap();
        std::fs::write(self.screenshots.join(format!("{name}.png")), png).unwrap();
    }

    async fn chart_count(&self) -> i64 {
        self.script("document.querySelectorAll('svg.chart').length")
            .await
            .as_i64()
            .unwrap()
    }
}

/// A synthetic business in the platform's database, through the etl binary.
fn generate_business(platform: &Platform) {
    let output = Command::new(binary("etl"))
        .args(["generate", "--customers", "600", "--seed", "21"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(platform.env.iter().map(|(name, value)| (name, value)))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

async fn admin_post(http: &reqwest::Client, base: &str, path: &str, body: Value) -> Value {
    let response = http
        .post(format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

async fn admin_get(http: &reqwest::Client, base: &str, path: &str) -> reqwest::Response {
    let response = http
        .get(format!("{base}{path}"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response
}

async fn wait_for_job(http: &reqwest::Client, base: &str, job: &Value) {
    let id = job["id"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let current: Value = admin_get(http, base, &format!("/api/v1/jobs/{id}"))
            .await
            .json()
            .await
            .unwrap();
        match current["status"].as_str() {
            Some("succeeded") => return,
            Some("failed" | "cancelled") => panic!("job {id}: {current}"),
            _ => {}
        }
        assert!(Instant::now() < deadline, "job {id} still {current}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_in_a_real_browser() {
    let platform = Platform::start().await;
    generate_business(&platform);
    let base = platform.api.url.clone();
    let http = reqwest::Client::new();
    // A first segmentation run, so that the segments page has one to compare with, and a
    // fresh overview of the generated business.
    let run = admin_post(&http, &base, "/api/v1/segmentation-runs", json!({})).await;
    wait_for_job(&http, &base, &run).await;
    let refresh = admin_post(&http, &base, "/api/v1/reports/overview/refresh", json!({})).await;
    wait_for_job(&http, &base, &refresh).await;

    let browser = Browser::start(&base).await;

    // Log in.
    browser.open("/login").await;
    browser.check_and_save("login").await;
    browser.fill("input[name=key]", ADMIN_KEY).await;
    browser.click("button[type=submit]").await;
    browser.wait_until("location.pathname === '/'").await;

    // The overview.
    browser.wait_for_css("svg.chart").await;
    assert_eq!(browser.chart_count().await, 5);
    let figures = browser.text_of(".figures").await;
    assert!(figures.contains("600"), "{figures}");
    browser.check_and_save("overview").await;

    // Add a customer through the form, then find them in the table.
    browser.open("/customers/new").await;
    browser.fill("#first_name", "Ada").await;
    browser.fill("#last_name", "Browser").await;
    browser.fill("#email", "not-an-address").await;
    browser.click("#customer-form button[type=submit]").await;
    browser
        .wait_until("document.querySelector('[data-error-for=email]').textContent.length > 0")
        .await;
    // The API's own message, under its field.
    let message = browser.text_of("[data-error-for=email]").await;
    assert!(message.contains("e-mail"), "{message}");
    browser
        .check_and_save_expecting(
            "customer-new",
            Some("/api/v1/customers - Failed to load resource: the server responded with a status of 422"),
        )
        .await;
    browser.fill("#email", "ada.browser@example.com").await;
    browser.fill("#country", "gb").await;
    browser.click("#customer-form button[type=submit]").await;
    browser
        .wait_until("location.pathname === '/customers' && location.search.includes('ada.browser')")
        .await;
    let table = browser.text_of("main table").await;
    assert!(table.contains("ada.browser@example.com"), "{table}");
    assert!(table.contains("Ada Browser"), "{table}");
    browser.check_and_save("customers").await;
    browser.click("main table tbody a").await;
    browser
        .wait_until("/^\\/customers\\/\\d+$/.test(location.pathname)")
        .await;
    assert!(browser.text_of("h1").await.contains("Ada Browser"));
    browser.check_and_save("customer").await;
    // Edit them: a city added, the country cleared.
    let customer_path: String = browser
        .script("location.pathname")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    browser.click("#edit-customer").await;
    browser
        .wait_for_css("#customer-form[data-method=PATCH]")
        .await;
    assert_eq!(
        browser
            .script("document.getElementById('country').value")
            .await,
        json!("GB")
    );
    browser.fill("#city", "Leeds").await;
    browser.fill("#country", "").await;
    browser.choose("#device", "tv").await;
    browser.check_and_save("customer-edit").await;
    browser.click("#customer-form button[type=submit]").await;
    browser
        .wait_until(&format!("location.pathname === '{customer_path}'"))
        .await;
    let edited: Value = admin_get(&http, &base, &format!("/api/v1{customer_path}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["city"], "Leeds", "{edited}");
    assert_eq!(edited["country"], Value::Null, "{edited}");
    assert_eq!(edited["device"], "tv", "{edited}");
    assert_eq!(edited["email"], "ada.browser@example.com");

    // Segments: run segmentation from the button and watch the job finish.
    browser.open("/segments").await;
    assert!(
        browser
            .text_of("main")
            .await
            .contains("There is no earlier run")
    );
    browser.click("#run-form button[type=submit]").await;
    browser.wait_for_css("[data-job]:not([hidden])").await;
    browser
        .wait_until("document.body.textContent.includes('Compared with run')")
        .await;
    assert_eq!(browser.chart_count().await, 2);
    let moves = browser.text_of("main").await;
    assert!(moves.contains("Who moved where") && moves.contains("not in the previous run"));
    browser.check_and_save("segments").await;

    // Design an experiment in the wizard and start it.
    browser.open("/experiments").await;
    browser.check_and_save("experiments-empty").await;
    browser.open("/experiments/new").await;
    browser.fill("#name", "Browser wizard").await;
    browser
        .fill("#hypothesis", "A plan offer beats a title pick")
        .await;
    browser.click("[data-step='1'] [data-next]").await;
    // The largest segment of the latest run.
    let report: Value = admin_get(&http, &base, "/api/v1/reports/segments")
        .await
        .json()
        .await
        .unwrap();
    let largest = report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .max_by_key(|segment| segment["customers"].as_i64())
        .unwrap();
    let segment = largest["segment_id"].to_string();
    browser.choose("#segment_id", &segment).await;
    browser
        .wait_until(
            "document.getElementById('audience-summary').textContent.includes('can be reached')",
        )
        .await;
    browser.click("[data-step='2'] [data-next]").await;
    let templates = browser
        .script("[...document.querySelectorAll('#variants .variant:first-child [data-field=template_id] option')].map(o => o.value).filter(v => v)")
        .await;
    let templates: Vec<String> = serde_json::from_value(templates).unwrap();
    assert!(templates.len() >= 2, "{templates:?}");
    // Both variants filled at once, as a quick hand would: the preview shows the last one
    // asked for, whichever answer comes back first.
    browser
        .client
        .execute(
            "const [first, second] = arguments;\
             const selects = document.querySelectorAll('#variants [data-field=template_id]');\
             selects[0].value = first; selects[0].dispatchEvent(new Event('change', {bubbles: true}));\
             selects[1].value = second; selects[1].dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(templates[0]), json!(templates[1])],
        )
        .await
        .unwrap();
    // The preview: the second variant, rendered by the mailer for a real customer.
    browser
        .wait_until("document.getElementById('preview-for').textContent.includes('Variant 2, for')")
        .await;
    let subject = browser.text_of("#preview-subject").await;
    assert!(!subject.is_empty() && !subject.contains("{{"), "{subject}");
    let html: String = browser
        .script("document.getElementById('preview-html').srcdoc")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.contains("<") && !html.contains("{{"), "{html}");
    browser.check_and_save("experiment-new").await;
    browser.click("[data-step='3'] [data-next]").await;
    browser.fill("#holdout_fraction", "10").await;
    browser.fill("#test_fraction", "50").await;
    browser.click("[data-step='4'] [data-next]").await;
    browser
        .wait_until("/^[0-9,]+$/.test(document.getElementById('power-needed').textContent)")
        .await;
    browser
        .wait_until("document.getElementById('power-mde').textContent.includes('%')")
        .await;
    browser.check_and_save("experiment-power").await;
    let needed_per_arm: f64 = browser
        .text_of("#power-needed")
        .await
        .replace(',', "")
        .parse()
        .unwrap();
    browser.click("#create-start").await;
    browser
        .wait_until("/^\\/experiments\\/\\d+$/.test(location.pathname)")
        .await;
    let heading = browser.text_of("h1").await;
    assert!(
        heading.contains("Browser wizard") && heading.contains("running"),
        "{heading}"
    );
    let experiment_id: i64 = browser
        .script("location.pathname.split('/')[2]")
        .await
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    browser.check_and_save("experiment").await;
    // The plan: two equal arms of the needed size are 45% of those assigned (half of the 90%
    // not held out), and ds counts the holdout in the plan too.
    let experiment: Value = admin_get(
        &http,
        &base,
        &format!("/api/v1/experiments/{experiment_id}"),
    )
    .await
    .json()
    .await
    .unwrap();
    let planned = (2.0 * needed_per_arm * 0.55 / 0.45).ceil() as i64;
    let stored = experiment["planned_sample_size"].as_i64().unwrap();
    assert!((stored - planned).abs() <= 1, "{stored} against {planned}");
    assert_eq!(experiment["holdout_fraction"], 0.1);
    assert_eq!(experiment["test_fraction"], 0.5);

    // Some of the audience converts; then the analysis, from its button, and the results.
    diesel::sql_query(
        "INSERT INTO conversions (customer_id, kind, revenue_cents, occurred_at, experiment_id, source)
         SELECT customer_id, 'subscribe', 1000, assigned_at + interval '1 hour', experiment_id, 'api'
         FROM assignments WHERE experiment_id = $1 AND customer_id % 4 = 0",
    )
    .bind::<diesel::sql_types::BigInt, _>(experiment_id)
    .execute(&mut platform.database.connect())
    .unwrap();
    browser.click("#analyze").await;
    browser.wait_for_css("[data-job]:not([hidden])").await;
    browser
        .wait_until(
            "document.querySelector('[data-job]') && document.querySelector('[data-job]').hidden",
        )
        .await;
    browser
        .open(&format!("/experiments/{experiment_id}/results"))
        .await;
    let recommendation = browser.text_of(".recommendation").await;
    assert!(
        recommendation.starts_with("Recommendation: "),
        "{recommendation}"
    );
    assert_eq!(
        browser.chart_count().await,
        2,
        "error bars and the timeline"
    );
    let arms = browser.text_of("#arms").await;
    assert!(
        arms.contains("control") && arms.contains("holdout"),
        "{arms}"
    );
    assert!(browser.text_of("main").await.contains("By age band"));
    browser.check_and_save("results").await;
    let csv = admin_get(
        &http,
        &base,
        &format!("/api/v1/reports/experiments/{experiment_id}/results.csv"),
    )
    .await
    .text()
    .await
    .unwrap();
    assert!(csv.starts_with("dimension,value,arm,"), "{csv}");
    browser.open("/experiments").await;
    assert!(
        browser
            .text_of("#experiments")
            .await
            .contains("Browser wizard")
    );
    browser.check_and_save("experiments").await;

    // A page that cannot be shown says why, as a page.
    browser.open("/experiments/999999").await;
    assert!(
        browser
            .text_of("main")
            .await
            .contains("Experiment 999999 does not exist.")
    );
    browser
        .check_and_save_expecting("not-found", Some("status of 404"))
        .await;

    // The statistics tools: a line that is not counts is refused under the field; a count
    // the API refuses (more successes than trials) too, with the API's words.
    browser.open("/stats").await;
    browser
        .fill("#significance-arms", "A, x, 10\nB, 1, 10")
        .await;
    browser
        .click("#significance-form button[type=submit]")
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-error-for=variants]').textContent.includes('line 1')",
        )
        .await;
    browser
        .fill("#significance-arms", "A, 20, 10\nB, 1, 10")
        .await;
    browser
        .click("#significance-form button[type=submit]")
        .await;
    browser
        .wait_until(
            "document.querySelector('[data-error-for=variants]').textContent.includes('trials')",
        )
        .await;
    browser
        .fill("#significance-arms", "A, 120, 1000\nB, 150, 1000")
        .await;
    browser
        .click("#significance-form button[type=submit]")
        .await;
    browser
        .wait_until("!document.getElementById('significance-answer').hidden")
        .await;
    let comparisons = browser.text_of("#significance-comparisons").await;
    assert!(comparisons.contains("B"), "{comparisons}");
    browser.click("#power-form button[type=submit]").await;
    browser
        .wait_until("!document.getElementById('power-answer').hidden")
        .await;
    // The form's defaults, asked of the API directly: the page shows its answer.
    let expected = admin_post(
        &http,
        &base,
        "/api/v1/stats/power",
        json!({"kind": "proportions", "relative": true, "baseline": 0.1, "mde": 0.1, "power": 0.8, "alpha": 0.05}),
    )
    .await;
    let power = browser.text_of("#power-answer").await;
    let needed = expected["n_per_variant"].as_i64().unwrap();
    assert!(needed > 1000, "{expected}");
    assert!(
        power.contains(&format!("Customers in the control arm {needed}")),
        "{power} against {expected}"
    );
    browser
        .check_and_save_expecting(
            "stats",
            Some("/api/v1/stats/proportions - Failed to load resource: the server responded with a status of 422"),
        )
        .await;

    // Settings and health.
    browser.open("/settings").await;
    let services = browser.text_of("main table").await;
    assert!(services.matches("ready").count() >= 4, "{services}");
    browser.check_and_save("settings").await;

    // A phone's screen: every page fits its width.
    browser.client.set_window_size(390, 844).await.unwrap();
    for (name, path) in [
        ("overview", "/".to_owned()),
        ("customers", "/customers".to_owned()),
        ("customer-new", "/customers/new".to_owned()),
        ("customer", customer_path.clone()),
        ("segments", "/segments".to_owned()),
        ("experiments", "/experiments".to_owned()),
        ("experiment-new", "/experiments/new".to_owned()),
        ("experiment", format!("/experiments/{experiment_id}")),
        ("results", format!("/experiments/{experiment_id}/results")),
        ("stats", "/stats".to_owned()),
        ("settings", "/settings".to_owned()),
    ] {
        browser.open(&path).await;
        browser.check_and_save(&format!("{name}-phone")).await;
    }
}
