//! The statistics calculators as a user calls them: through the api, computed by a real ds
//! process over real HTTP. Expected values are scipy's and statsmodels' (see
//! crates/stats/reference for the full reference vectors).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use testkit::{Platform, READ_KEY};

async fn post(http: &reqwest::Client, api: &str, path: &str, body: Value) -> (u16, Value) {
    let response = http
        .post(format!("{api}/api/v1/stats/{path}"))
        .bearer_auth(READ_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn close(value: &Value, expected: f64) -> bool {
    let value = value.as_f64().unwrap();
    (value - expected).abs() <= 1e-9 * expected.abs().max(1e-300)
}

#[tokio::test]
async fn the_calculators_answer_through_the_api_with_a_read_key() {
    let platform = Platform::start().await;
    let http = reqwest::Client::new();
    let api = platform.api.url.clone();

    // The example.
    let (status, answer) = post(
        &http,
        &api,
        "proportions",
        json!({"variants": [
        {"name": "A", "successes": 120, "trials": 1000},
        {"name": "B", "successes": 150, "trials": 1000}], "alpha": 0.05}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["variants"][0]["rate"], 0.12);
    assert_eq!(answer["variants"][0]["ci"].as_array().unwrap().len(), 2);
    let b = &answer["comparisons"][0];
    assert_eq!(b["variant"], "B");
    assert!(
        close(&b["z_test"]["statistic"], 1.963_049_807_622_355),
        "{b}"
    );
    assert!(
        close(&b["z_test"]["p_value"], 0.049_640_386_865_368_78),
        "{b}"
    );
    assert!(
        close(&b["chi_square"]["p_value"], 0.049_640_386_865_368_834),
        "{b}"
    );
    assert!(
        close(&b["fisher"]["p_value"], 0.057_595_850_868_926_74),
        "{b}"
    );
    assert!(b["chi_square_yates"]["p_value"].as_f64().unwrap() > 0.0496);
    assert!(close(&b["relative_lift"], 0.25));
    let ci = b["ci_relative"].as_array().unwrap();
    assert!(ci[0].as_f64().unwrap() < 0.25 && 0.25 < ci[1].as_f64().unwrap());
    let chance = b["chance_to_win"].as_f64().unwrap();
    assert!(chance > 0.97 && chance < 0.99, "{chance}");
    assert!(b["expected_loss"].as_f64().unwrap() > 0.0);
    assert_eq!(answer["srm"]["df"], 1);
    assert_eq!(answer["srm"]["p_value"], 1.0);

    // A zero cell: the tests that need none answer, the others say why not.
    let (status, answer) = post(
        &http,
        &api,
        "proportions",
        json!({"variants": [
        {"name": "A", "successes": 0, "trials": 200},
        {"name": "B", "successes": 0, "trials": 210}]}),
    )
    .await;
    assert_eq!(status, 200);
    let b = &answer["comparisons"][0];
    assert_eq!(b["z_test"]["p_value"], Value::Null);
    assert!(b["z_test"]["note"].as_str().unwrap().len() > 5);
    assert_eq!(b["chi_square"]["p_value"], Value::Null);
    assert_eq!(b["fisher"]["p_value"], 1.0);
    assert!(answer["srm"]["p_value"].as_f64().unwrap() > 0.6);

    // Bad input: a 422 naming each field at fault, for every rule of the contract.
    for (body, field) in [
        (
            json!({"variants": [{"name": "A", "successes": 5, "trials": 4}, {"name": "B", "successes": 1, "trials": 4}]}),
            "variants[0].successes",
        ),
        (
            json!({"variants": [{"name": "A", "successes": -1, "trials": 4}, {"name": "B", "successes": 1, "trials": 4}]}),
            "variants[0].successes",
        ),
        (
            json!({"variants": [{"name": "A", "successes": 1, "trials": 4}]}),
            "variants",
        ),
        (
            json!({"variants": [{"name": "A", "successes": 1, "trials": 4}, {"name": "B", "successes": 1, "trials": 4}], "alpha": 1.5}),
            "alpha",
        ),
        (
            json!({"variants": [{"name": "A", "successes": 1, "trials": 4}, {"name": "B", "successes": 1, "trials": 4}], "weights": [1]}),
            "weights",
        ),
    ] {
        let (status, problem) = post(&http, &api, "proportions", body).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(problem["errors"][0]["field"], field, "{problem}");
    }

    // Means from raw values and from sums.
    let (status, answer) = post(
        &http,
        &api,
        "means",
        json!({"variants": [
        {"name": "A", "values": [3.1, 2.5, 4.0, 3.3, 2.9]},
        {"name": "B", "values": [3.9, 4.4, 3.6, 4.8, 4.1]}]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let b = &answer["comparisons"][0];
    assert!(
        close(&b["welch"]["statistic"], 3.097_891_054_043_947_3),
        "{b}"
    );
    assert!(
        close(&b["welch"]["p_value"], 0.015_316_576_314_336_474),
        "{b}"
    );
    assert_eq!(b["welch"]["ci"].as_array().unwrap().len(), 2);
    assert_eq!(b["mann_whitney"]["u"], 2.0);
    assert!(close(
        &b["mann_whitney"]["p_value"],
        0.031_746_031_746_031_744
    ));
    let (status, answer) = post(
        &http,
        &api,
        "means",
        json!({"variants": [
        {"name": "A", "n": 5, "sum": 15.8, "sum_squares": 51.16},
        {"name": "B", "n": 5, "sum": 20.8, "sum_squares": 87.38}]}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["comparisons"][0]["mann_whitney"], Value::Null);
    let (status, problem) = post(
        &http,
        &api,
        "means",
        json!({"variants": [
        {"name": "A", "n": 5, "sum": 15.8},
        {"name": "B", "values": [1, 2]}]}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "variants[0]");

    // Power: the example, then back from the size to the power and the effect.
    let (status, sized) = post(
        &http,
        &api,
        "power",
        json!({"baseline": 0.10, "mde": 0.02, "alpha": 0.05, "power": 0.8}),
    )
    .await;
    assert_eq!(status, 200, "{sized}");
    assert_eq!(sized["n_per_variant"], 3841);
    assert_eq!(sized["total"], 7682);
    let (_, power) = post(
        &http,
        &api,
        "power",
        json!({"baseline": 0.10, "mde": 0.02, "n_per_variant": 3841}),
    )
    .await;
    assert!(
        (power["power"].as_f64().unwrap() - 0.8).abs() < 5e-4,
        "{power}"
    );
    let (_, mde) = post(
        &http,
        &api,
        "power",
        json!({"baseline": 0.10, "power": 0.8, "n_per_variant": 3841}),
    )
    .await;
    assert!((mde["mde"].as_f64().unwrap() - 0.02).abs() < 1e-4, "{mde}");
    let (_, means) = post(
        &http,
        &api,
        "power",
        json!({"kind": "means", "sd": 10.0, "mde": 1.0, "power": 0.8, "ratio": 2}),
    )
    .await;
    assert_eq!(
        means["n_treatment"],
        2 * means["n_per_variant"].as_i64().unwrap()
    );
    let (status, problem) = post(&http, &api, "power", json!({"baseline": 0.1, "mde": 0.02})).await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["field"], "power");

    // Sample-ratio mismatch and multiplicity.
    let (status, srm) = post(
        &http,
        &api,
        "srm",
        json!({"observed": [1000, 1200], "weights": [0.5, 0.5]}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(close(&srm["statistic"], 18.181_818_181_818_183));
    assert!(close(&srm["p_value"], 2.007_865_612_426_481e-5), "{srm}");
    assert_eq!(srm["df"], 1);
    let (status, problem) = post(
        &http,
        &api,
        "srm",
        json!({"observed": [1000, 1200], "weights": [1]}),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (_, holm) = post(
        &http,
        &api,
        "adjust",
        json!({"p_values": [0.01, 0.04, 0.03], "method": "holm"}),
    )
    .await;
    let adjusted: Vec<f64> = holm["adjusted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert!(
        adjusted
            .iter()
            .zip([0.03, 0.06, 0.06])
            .all(|(a, b)| (a - b).abs() < 1e-15),
        "{holm}"
    );
    let (_, bh) = post(
        &http,
        &api,
        "adjust",
        json!({"p_values": [0.01, 0.04, 0.03], "method": "bh"}),
    )
    .await;
    let adjusted: Vec<f64> = bh["adjusted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_f64().unwrap())
        .collect();
    assert!(
        adjusted
            .iter()
            .zip([0.03, 0.04, 0.04])
            .all(|(a, b)| (a - b).abs() < 1e-15),
        "{bh}"
    );
    let (status, _) = post(
        &http,
        &api,
        "adjust",
        json!({"p_values": [0.01], "method": "bonferroni"}),
    )
    .await;
    assert_eq!(status, 422);

    // Without a key: 401.
    let anonymous = http
        .post(format!("{api}/api/v1/stats/srm"))
        .json(&json!({"observed": [1, 2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}
