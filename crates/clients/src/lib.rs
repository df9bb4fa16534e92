//! Typed HTTP clients for the internal APIs (api -> ds, mailer, etl).
//!
//! Every call has a timeout; idempotent calls are retried with exponential backoff; a peer
//! that is down or failing becomes a `ClientError` the caller turns into a 502/503 problem.

use std::time::Duration;

use models::ops::HealthStatus;
use serde::de::DeserializeOwned;
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{service} at {url} is unreachable: {reason}")]
    Unreachable {
        service: &'static str,
        url: String,
        reason: String,
    },
    #[error("{service} answered {status}: {detail}")]
    Status {
        service: &'static str,
        status: u16,
        detail: String,
    },
    /// The peer refused the request (4xx) with this problem document: the caller's request
    /// was at fault, so it is passed on as it is.
    #[error("{service} refused the request ({status})")]
    Refused {
        service: &'static str,
        status: u16,
        problem: serde_json::Value,
    },
    #[error("{service} sent an answer that cannot be read: {reason}")]
    BadAnswer {
        service: &'static str,
        reason: String,
    },
}

/// How long an idle pooled connection to a peer is kept: less than the peers' keep-alive.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(3);

/// How calls behave; the defaults suit calls made while a user waits.
#[derive(Debug, Clone, Copy)]
pub struct CallPolicy {
    pub timeout: Duration,
    /// Extra tries for idempotent calls after the first fails on the network or with a 5xx.
    pub retries: u32,
    /// Wait before the first retry; doubled before each next one.
    pub first_backoff: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            timeout: Duration::from_secs(5),
            retries: 2,
            first_backoff: Duration::from_millis(100),
        }
    }
}

/// A client of one internal service.
#[derive(Debug, Clone)]
pub struct ServiceClient {
    service: &'static str,
    base: Url,
    token: String,
    policy: CallPolicy,
    http: reqwest::Client,
}

impl ServiceClient {
    pub fn new(
        service: &'static str,
        base: Url,
        token: String,
        policy: CallPolicy,
    ) -> Result<ServiceClient, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // The peers (actix-web) close a connection idle for 5 s. A request sent on a pooled
            // connection just as the peer closes it fails ("connection closed before message
            // completed"), and a POST is not retried: idle connections are given up first.
            .pool_idle_timeout(IDLE_CONNECTION_TIMEOUT)
            .build()
            .map_err(|error| ClientError::Unreachable {
                service,
                url: base.to_string(),
                reason: error.to_string(),
            })?;
        Ok(ServiceClient {
            service,
            base,
            token,
            policy,
            http,
        })
    }

    pub fn service(&self) -> &'static str {
        self.service
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The peer's `/ready`: whether it can do its work now.
    pub async fn ready(&self) -> Result<HealthStatus, ClientError> {
        self.get_json("ready").await
    }

    /// GET of a path (with its query) below the base URL. GET is idempotent: network failures
    /// and 5xx answers are retried with backoff.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = self.url(path)?;
        let mut backoff = self.policy.first_backoff;
        let mut tries_left = self.policy.retries;
        loop {
            let outcome = self.send(self.http.get(url.clone()), &url).await;
            let retryable = match &outcome {
                Err(ClientError::Unreachable { .. }) => true,
                Err(ClientError::Status { status, .. }) => *status >= 500,
                _ => false,
            };
            if !retryable || tries_left == 0 {
                return outcome;
            }
            tracing::debug!(service = self.service, %url, ?backoff, "retrying");
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            tries_left -= 1;
        }
    }

    /// POST of a body as it is (JSON, or a multipart upload). Not idempotent: never retried.
    pub async fn post_raw<T: DeserializeOwned>(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<T, ClientError> {
        let url = self.url(path)?;
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(request, &url).await
    }

    fn url(&self, path: &str) -> Result<Url, ClientError> {
        self.base
            .join(path)
            .map_err(|error| ClientError::Unreachable {
                service: self.service,
                url: format!("{}{path}", self.base),
                reason: error.to_string(),
            })
    }

    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        url: &Url,
    ) -> Result<T, ClientError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|error| ClientError::Unreachable {
                service: self.service,
                url: url.to_string(),
                reason: with_causes(&error),
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let problem = serde_json::from_str::<serde_json::Value>(&body).ok();
            if status.is_client_error()
                && let Some(problem) = problem
                    .clone()
                    .filter(|problem| problem.get("status").is_some())
            {
                return Err(ClientError::Refused {
                    service: self.service,
                    status: status.as_u16(),
                    problem,
                });
            }
            let detail = problem
                .and_then(|problem| {
                    problem
                        .get("detail")
                        .and_then(|detail| detail.as_str())
                        .map(str::to_owned)
                })
                .unwrap_or(body);
            return Err(ClientError::Status {
                service: self.service,
                status: status.as_u16(),
                detail,
            });
        }
        response
            .json::<T>()
            .await
            .map_err(|error| ClientError::BadAnswer {
                service: self.service,
                reason: error.to_string(),
            })
    }
}

/// reqwest's top-level message ("error sending request") hides the cause; name it too.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
