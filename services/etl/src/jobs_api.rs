//! `/v1/jobs`: start generate and import jobs, and list the jobs of every service.

use actix_multipart::Multipart;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use diesel::{ExpressionMethods as _, QueryDsl as _, SelectableHelper as _};
use diesel_async::{AsyncConnection as _, RunQueryDsl as _};
use futures_util::StreamExt as _;
use models::enums::JobKind;
use models::jobs::{GenerateRequest, Job, JobInsertForm, JobListQuery, JobPage};
use models::page::{DEFAULT_LIMIT, MAX_LIMIT};
use models::schema::{job_files, jobs};
use service::auth::InternalCaller;
use service::problem::connection;
use service::{FieldError, Problem};

use crate::Settings;
use crate::import::ImportTable;

/// Starts a job. JSON (a `GenerateRequest`) starts a generation; a `multipart/form-data`
/// upload of CSV files named after their tables (`customers.csv`, ...; see docs/src/etl.md),
/// with an optional field `skip_invalid=true`, starts an import.
#[utoipa::path(
    tag = "jobs",
    security(("service_token" = [])),
    request_body(
        description = "JSON for a generation, or multipart/form-data CSV files for an import",
        content((GenerateRequest = "application/json"), (String = "multipart/form-data"))
    ),
    responses(
        (status = 202, description = "The job, queued", body = Job),
        (status = 400, description = "Malformed JSON or multipart body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The upload is larger than ETL_MAX_UPLOAD_BYTES", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad value, named", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/jobs")]
pub async fn create_job(
    _caller: InternalCaller,
    request: HttpRequest,
    payload: web::Payload,
    settings: web::Data<Settings>,
    pool: web::Data<models::db::Pool>,
) -> Result<HttpResponse, Problem> {
    let media_type = service::json::media_type(&request);
    let job = if media_type == "multipart/form-data" {
        let upload = read_upload(
            Multipart::new(request.headers(), payload),
            settings.max_upload_bytes,
        )
        .await?;
        enqueue_import(&pool, upload).await?
    } else if media_type == "application/json" {
        let bytes = payload.to_bytes_limited(64 * 1024).await.map_err(|_| {
            Problem::new(
                actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                "a generate request is at most 64 KiB",
            )
        })?;
        let bytes = bytes
            .map_err(|error| Problem::bad_request(format!("cannot read the body: {error}")))?;
        let generate: GenerateRequest = service::json::parse(&bytes)?;
        enqueue_generate(&pool, generate, settings.max_customers).await?
    } else {
        return Err(Problem::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send application/json to generate, or multipart/form-data CSV files to import",
        ));
    };
    Ok(HttpResponse::Accepted()
        .insert_header((header::LOCATION, format!("/v1/jobs/{}", job.id)))
        .json(job))
}

async fn enqueue_generate(
    pool: &models::db::Pool,
    request: GenerateRequest,
    max_customers: u64,
) -> Result<Job, Problem> {
    let mut errors = Vec::new();
    match request.customers {
        Some(0) => errors.push(FieldError::new("customers", "must be at least 1")),
        Some(customers) if customers > max_customers => errors.push(FieldError::new(
            "customers",
            format!("must be at most {max_customers} (ETL_MAX_CUSTOMERS)"),
        )),
        _ => {}
    }
    if request.seed.is_some_and(|seed| seed > i64::MAX as u64) {
        errors.push(FieldError::new(
            "seed",
            format!("must be at most {}", i64::MAX),
        ));
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let payload = serde_json::to_value(&request).map_err(|error| Problem::internal(&error))?;
    let mut connection = connection(pool).await?;
    let job = diesel::insert_into(jobs::table)
        .values(&JobInsertForm {
            kind: JobKind::Generate,
            payload,
            max_attempts: None,
        })
        .returning(Job::as_returning())
        .get_result(&mut connection)
        .await?;
    Ok(job)
}

/// The files of an import upload.
struct Upload {
    files: Vec<(String, Vec<u8>)>,
    skip_invalid: bool,
}

async fn read_upload(mut multipart: Multipart, max_bytes: usize) -> Result<Upload, Problem> {
    let mut upload = Upload {
        files: Vec::new(),
        skip_invalid: false,
    };
    let mut total = 0_usize;
    while let Some(field) = multipart.next().await {
        let mut field = field
            .map_err(|error| Problem::bad_request(format!("malformed multipart body: {error}")))?;
        let disposition = field.content_disposition().cloned();
        let field_name = disposition
            .as_ref()
            .and_then(|d| d.get_name())
            .unwrap_or_default()
            .to_owned();
        let file_name = disposition
            .as_ref()
            .and_then(|d| d.get_filename())
            .map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|error| {
                Problem::bad_request(format!("malformed multipart body: {error}"))
            })?;
            total += chunk.len();
            if total > max_bytes {
                return Err(Problem::new(
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the upload is larger than {max_bytes} bytes (ETL_MAX_UPLOAD_BYTES)"),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        match file_name {
            None if field_name == "skip_invalid" => {
                upload.skip_invalid =
                    matches!(String::from_utf8_lossy(&bytes).trim(), "true" | "1" | "yes");
            }
            None => {
                return Err(Problem::validation(vec![FieldError::new(
                    field_name,
                    "is not a file or skip_invalid",
                )]));
            }
            Some(file_name) => {
                let base = file_name
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let table = base.strip_suffix(".csv").and_then(ImportTable::from_name);
                if table.is_none() {
                    let names: Vec<&str> =
                        ImportTable::ALL.iter().map(|table| table.name()).collect();
                    return Err(Problem::validation(vec![FieldError::new(
                        field_name,
                        format!(
                            "'{file_name}' is not a table's file: {}.csv",
                            names.join(".csv, ")
                        ),
                    )]));
                }
                if upload.files.iter().any(|(name, _)| *name == base) {
                    return Err(Problem::validation(vec![FieldError::new(
                        field_name,
                        format!("'{base}' is uploaded twice"),
                    )]));
                }
                upload.files.push((base, bytes));
            }
        }
    }
    if upload.files.is_empty() {
        return Err(Problem::validation(vec![FieldError::new(
            "files",
            "upload at least one CSV file",
        )]));
    }
    Ok(upload)
}

async fn enqueue_import(pool: &models::db::Pool, upload: Upload) -> Result<Job, Problem> {
    let names: Vec<&str> = upload.files.iter().map(|(name, _)| name.as_str()).collect();
    let payload = serde_json::json!({"files": names, "skip_invalid": upload.skip_invalid});
    let mut connection = connection(pool).await?;
    let job = connection
        .transaction::<Job, diesel::result::Error, _>(async move |connection| {
            let job = diesel::insert_into(jobs::table)
                .values(&JobInsertForm {
                    kind: JobKind::Import,
                    payload,
                    max_attempts: None,
                })
                .returning(Job::as_returning())
                .get_result(connection)
                .await?;
            for (name, content) in upload.files {
                diesel::insert_into(job_files::table)
                    .values((
                        job_files::job_id.eq(job.id),
                        job_files::file_name.eq(name),
                        job_files::content.eq(content),
                    ))
                    .execute(connection)
                    .await?;
            }
            Ok(job)
        })
        .await?;
    Ok(job)
}

/// Every service's jobs, newest first.
#[utoipa::path(
    tag = "jobs",
    security(("service_token" = [])),
    params(JobListQuery),
    responses(
        (status = 200, description = "A page of jobs", body = JobPage),
        (status = 400, description = "A bad query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "Missing or wrong service token", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "limit out of range", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/jobs")]
pub async fn list_jobs(
    _caller: InternalCaller,
    query: web::Query<JobListQuery>,
    pool: web::Data<models::db::Pool>,
) -> Result<web::Json<JobPage>, Problem> {
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Problem::validation(vec![FieldError::new(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        )]));
    }
    let mut connection = connection(&pool).await?;
    let mut select = jobs::table
        .select(Job::as_select())
        .order(jobs::id.desc())
        .limit(limit + 1)
        .into_boxed();
    if let Some(before) = query.before {
        select = select.filter(jobs::id.lt(before));
    }
    let mut page: Vec<Job> = select.load(&mut connection).await?;
    let next = if page.len() as i64 > limit {
        page.truncate(limit as usize);
        page.last().map(|job| job.id)
    } else {
        None
    };
    Ok(web::Json(JobPage { jobs: page, next }))
}
