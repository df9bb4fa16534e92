//! Starting a service: migrations, pool, listener, and the actix app every service shares
//! (health, ready, metrics, OpenAPI + Swagger UI, problem+json for every error, request spans).

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, from_fn};
use actix_web::{App, HttpRequest, HttpServer, ResponseError as _, web};
use models::db::{DbError, Pool, build_pool};
use models::migrate::{MigrationError, run_pending_migrations_async};
use tracing_actix_web::TracingLogger;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_actix_web::AppExt as _;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;

use crate::health::{self, ServiceInfo};
use crate::json::DEFAULT_BODY_LIMIT;
use crate::metrics::{self, HttpMetrics, MetricsError};
use crate::problem::{PROBLEM_CONTENT_TYPE, Problem};
use crate::settings::{CommonSettings, ServiceToken};

/// A service's own routes (and the app data they need), registered on each worker's app.
pub type Routes = Arc<dyn Fn(&mut ServiceConfig) + Send + Sync>;

/// Name of the security scheme for public routes (an API key as a Bearer token).
pub const API_KEY_SCHEME: &str = "api_key";
/// Name of the security scheme for internal routes (the service token as a Bearer token).
pub const SERVICE_TOKEN_SCHEME: &str = "service_token";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Migration(#[from] MigrationError),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot listen on {addr} (from {variable}): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        variable: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Metrics(#[from] MetricsError),
    #[error("cannot start the HTTP server: {0}")]
    Serve(std::io::Error),
    /// A service's own part failed to start.
    #[error("{0}")]
    Other(String),
}

/// A service listening on its port, not yet serving until awaited (or spawned).
pub struct RunningService {
    pub port: u16,
    pub server: Server,
}

impl RunningService {
    /// Serves until SIGTERM or SIGINT, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Migrates the database (under the advisory lock), builds the pool, binds the listener and
/// builds the server. Fails with one clear error: unreachable database, port in use, ...
pub async fn start(
    settings: &CommonSettings,
    info: ServiceInfo,
    openapi: OpenApi,
    routes: Routes,
) -> Result<RunningService, StartError> {
    let applied = run_pending_migrations_async(settings.database.url.clone()).await?;
    tracing::info!(service = info.name, applied = applied.len(), versions = ?applied, "migrations applied");
    let pool = build_pool(&settings.database)?;
    let listener =
        TcpListener::bind(settings.listen_addr).map_err(|source| StartError::Listen {
            addr: settings.listen_addr,
            variable: settings.listen_addr_variable,
            source,
        })?;
    let port = listener
        .local_addr()
        .map(|addr| addr.port())
        .unwrap_or_default();
    let server = serve(
        listener,
        info,
        pool,
        settings.service_token.clone(),
        openapi,
        routes,
    )?;
    tracing::info!(service = info.name, port, "listening");
    Ok(RunningService { port, server })
}

/// The OpenAPI document a service serves: its routes and the shared operations routes.
pub fn openapi_document(openapi: OpenApi, routes: &Routes) -> OpenApi {
    let routes = routes.clone();
    let (_, document) = App::new()
        .into_utoipa_app()
        .openapi(openapi)
        .service(health::health)
        .service(health::ready)
        .service(health::metrics)
        .configure(move |config| routes(config))
        .split_for_parts();
    document
}

/// A starting document: the title, and both Bearer security schemes so Swagger UI's
/// Authorize button works.
pub fn base_openapi(info: ServiceInfo, description: &str) -> OpenApi {
    let mut document = OpenApi::default();
    document.info.title = format!("streamlab {}", info.name);
    document.info.version = info.version.to_owned();
    document.info.description = Some(description.to_owned());
    let components = document.components.get_or_insert_with(Default::default);
    for (name, format) in [
        (API_KEY_SCHEME, "API key"),
        (SERVICE_TOKEN_SCHEME, "SERVICE_TOKEN"),
    ] {
        components.add_security_scheme(
            name,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format(format)
                    .build(),
            ),
        );
    }
    document
}

fn serve(
    listener: TcpListener,
    info: ServiceInfo,
    pool: Pool,
    service_token: ServiceToken,
    openapi: OpenApi,
    routes: Routes,
) -> Result<Server, StartError> {
    let metrics = HttpMetrics::new(info.name)?;
    let document = openapi_document(openapi, &routes);
    let allowed_methods = web::Data::new(AllowedMethods::of(&document));
    let server = HttpServer::new(move || {
        let routes = routes.clone();
        App::new()
            .app_data(allowed_methods.clone())
            .app_data(web::Data::new(info))
            .app_data(web::Data::new(pool.clone()))
            .app_data(web::Data::new(metrics.clone()))
            .app_data(web::Data::new(service_token.clone()))
            .app_data(web::PayloadConfig::new(DEFAULT_BODY_LIMIT))
            .app_data(
                web::PathConfig::default()
                    .error_handler(|error, _| Problem::not_found(error.to_string()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|error, _| Problem::bad_request(error.to_string()).into()),
            )
            .into_utoipa_app()
            .service(health::health)
            .service(health::ready)
            .service(health::metrics)
            .configure(move |config| routes(config))
            .into_app()
            .service(SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", document.clone()))
            .route("/docs", web::get().to(redirect_to_docs))
            .default_service(web::to(no_route))
            .wrap(ErrorHandlers::new().default_handler(render_as_problem))
            .wrap(from_fn(metrics::record))
            .wrap(TracingLogger::default())
    })
    .listen(listener)
    .map_err(StartError::Serve)?
    .shutdown_timeout(10)
    .run();
    Ok(server)
}

async fn redirect_to_docs() -> actix_web::HttpResponse {
    actix_web::HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// The methods each documented path takes, for the `Allow` header of a 405.
#[derive(Debug, Default)]
struct AllowedMethods(std::collections::HashMap<String, String>);

impl AllowedMethods {
    fn of(document: &OpenApi) -> AllowedMethods {
        let methods = document
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let operations = [
                    ("GET", &item.get),
                    ("POST", &item.post),
                    ("PUT", &item.put),
                    ("PATCH", &item.patch),
                    ("DELETE", &item.delete),
                ];
                let allowed: Vec<&str> = operations
                    .iter()
                    .filter(|(_, operation)| operation.is_some())
                    .map(|(method, _)| *method)
                    .collect();
                (path.clone(), allowed.join(", "))
            })
            .collect();
        AllowedMethods(methods)
    }
}

async fn no_route(request: HttpRequest) -> Result<actix_web::HttpResponse, Problem> {
    let (method, path) = (request.method(), request.path());
    // A known path asked with another method: 405 rather than 404.
    if let Some(pattern) = request.resource_map().match_pattern(path) {
        let problem = Problem::new(
            actix_web::http::StatusCode::METHOD_NOT_ALLOWED,
            format!("{pattern} does not take {method}"),
        );
        let mut response = problem.error_response();
        let allowed = request
            .app_data::<web::Data<AllowedMethods>>()
            .and_then(|allowed| allowed.0.get(&pattern).cloned())
            .and_then(|allowed| header::HeaderValue::from_str(&allowed).ok());
        if let Some(allowed) = allowed {
            response.headers_mut().insert(header::ALLOW, allowed);
        }
        return Ok(response);
    }
    Err(Problem::not_found(format!(
        "no route matches {method} {path}"
    )))
}

/// Every error answer leaves as problem+json, whichever layer produced it (actix's own 404,
/// 405, 413, a path that does not parse, ...). Ours already are and pass through untouched.
fn render_as_problem<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems pass as they are, and so do HTML pages: the dashboard's error pages, written
    // for people on purpose.
    let left_as_is = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            let value = value.as_bytes();
            value.starts_with(PROBLEM_CONTENT_TYPE.as_bytes()) || value.starts_with(b"text/html")
        });
    if left_as_is {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let detail = match response.response().error() {
        Some(error) if status.is_client_error() => error.to_string(),
        Some(error) => {
            tracing::error!(%error, "internal error");
            "an internal error occurred; it has been logged".to_owned()
        }
        None => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let (request, original) = response.into_parts();
    let mut replacement = Problem::new(status, detail).error_response();
    for (name, value) in original.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            replacement
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, replacement).map_into_right_body(),
    ))
}
