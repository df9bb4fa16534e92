//! `/health`, `/ready` and `/metrics`, served by every service.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use models::ops::HealthStatus;

use crate::metrics::HttpMetrics;
use crate::problem::{Problem, connection};

/// Which service answers, for health answers and the OpenAPI title.
#[derive(Debug, Clone, Copy)]
pub struct ServiceInfo {
    pub name: &'static str,
    pub version: &'static str,
}

/// The process is up. Says nothing about its dependencies.
#[utoipa::path(tag = "operations", responses((status = 200, description = "The process is up", body = HealthStatus)))]
#[get("/health")]
pub async fn health(info: web::Data<ServiceInfo>) -> web::Json<HealthStatus> {
    web::Json(HealthStatus {
        status: "ok".to_owned(),
        service: info.name.to_owned(),
        version: info.version.to_owned(),
    })
}

/// How long `/ready` waits for the database before saying it is not ready.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The service can do its work: the database answers and every migration is applied.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = HealthStatus),
        (status = 503, description = "Not ready; `detail` says why", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/ready")]
pub async fn ready(
    info: web::Data<ServiceInfo>,
    pool: web::Data<models::db::Pool>,
) -> Result<HttpResponse, Problem> {
    let check = async {
        let mut connection = connection(&pool).await?;
        let applied = models::migrate::all_applied(&mut connection)
            .await
            .map_err(|error| {
                Problem::unavailable(format!("the database does not answer: {error}"))
            })?;
        if applied {
            Ok(())
        } else {
            Err(Problem::unavailable("database migrations are pending"))
        }
    };
    tokio::time::timeout(READY_TIMEOUT, check)
        .await
        .map_err(|_| Problem::unavailable("the database did not answer within 2 seconds"))??;
    Ok(HttpResponse::Ok().json(HealthStatus {
        status: "ready".to_owned(),
        service: info.name.to_owned(),
        version: info.version.to_owned(),
    }))
}

/// Prometheus text format: request counts and latency histograms per route.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<HttpMetrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}
