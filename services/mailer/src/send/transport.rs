//! Where e-mail goes: an SMTP server over connections this process opens itself, or files.
//!
//! lettre's pooled transport never sets TCP_NODELAY, which holds a connection near 22
//! messages/s (each command waits for a delayed ACK); so the socket is opened here with
//! nodelay and handed to `AsyncSmtpConnection::connect_with_transport`, one connection per
//! sending task, and the number of tasks bounds concurrency.

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncFileTransport, AsyncTransport as _, Tokio1Executor};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How long connecting and each SMTP exchange may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// `smtp://host`: plain text (a local relay or catcher).
    Plain,
    /// `smtp://host?tls=starttls`: STARTTLS, required.
    StartTls,
    /// `smtps://host`: TLS from the first byte.
    Implicit,
}

/// `SMTP_URL`, read.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl SmtpSettings {
    /// `smtp[s]://[user:password@]host[:port][?tls=starttls]`.
    pub fn parse(text: &str) -> Result<SmtpSettings, String> {
        let url = url::Url::parse(text).map_err(|error| error.to_string())?;
        let implicit = match url.scheme() {
            "smtp" => false,
            "smtps" => true,
            other => return Err(format!("scheme '{other}' is not smtp or smtps")),
        };
        let host = url
            .host_str()
            .filter(|host| !host.is_empty())
            .ok_or("no host")?
            .to_owned();
        let starttls = url
            .query_pairs()
            .any(|(name, value)| name == "tls" && value == "starttls");
        let security = match (implicit, starttls) {
            (true, _) => Security::Implicit,
            (false, true) => Security::StartTls,
            (false, false) => Security::Plain,
        };
        let decode = |text: &str| {
            percent_encoding::percent_decode_str(text)
                .decode_utf8()
                .map(|text| text.into_owned())
                .map_err(|_| "the user or password is not UTF-8".to_owned())
        };
        let credentials = match url.password() {
            Some(password) => Some((decode(url.username())?, decode(password)?)),
            None => None,
        };
        Ok(SmtpSettings {
            host,
            port: url.port().unwrap_or(if implicit { 465 } else { 25 }),
            security,
            credentials,
        })
    }

    /// For logs and the status page: never the password.
    pub fn describe(&self) -> String {
        let scheme = if self.security == Security::Implicit {
            "smtps"
        } else {
            "smtp"
        };
        let tls = if self.security == Security::StartTls {
            "?tls=starttls"
        } else {
            ""
        };
        format!("{scheme}://{}:{}{tls}", self.host, self.port)
    }
}

/// Where this process sends.
#[derive(Clone)]
pub enum Transport {
    Smtp(SmtpSettings),
    /// One `.eml` file per message in the folder: the local demo needs no mail server.
    File(PathBuf),
}

impl Transport {
    pub fn describe(&self) -> String {
        match self {
            Transport::Smtp(settings) => settings.describe(),
            Transport::File(folder) => format!("file://{}", folder.display()),
        }
    }
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendFailure {
    /// The message never reached a server (no connection, TLS or login failed, the outbox
    /// cannot be written): not the message's fault, so it costs no attempt.
    NoConnection(String),
    /// Try again later: a 4xx reply, or the exchange broke off.
    Transient(String),
    /// The server said no for good (5xx), with its reply.
    Permanent { code: Option<u16>, reply: String },
}

/// One sending task's way out: an open SMTP connection (reopened when it breaks), or files.
pub struct Sender {
    transport: Transport,
    connection: Option<AsyncSmtpConnection>,
    hello: ClientId,
}

impl Sender {
    pub fn new(transport: Transport) -> Sender {
        Sender {
            transport,
            connection: None,
            hello: ClientId::default(),
        }
    }

    /// Sends one formatted message.
    pub async fn send(&mut self, envelope: &Envelope, message: &[u8]) -> Result<(), SendFailure> {
        let settings = match &self.transport {
            Transport::File(folder) => {
                return AsyncFileTransport::<Tokio1Executor>::new(folder)
                    .send_raw(envelope, message)
                    .await
                    .map(|_| ())
                    .map_err(|error| SendFailure::NoConnection(error.to_string()));
            }
            Transport::Smtp(settings) => settings.clone(),
        };
        if self
            .connection
            .as_ref()
            .is_none_or(AsyncSmtpConnection::has_broken)
        {
            self.connection = None;
            let opened = tokio::time::timeout(SMTP_TIMEOUT, connect(&settings, &self.hello))
                .await
                .map_err(|_| SendFailure::NoConnection("connecting timed out".to_owned()))?;
            self.connection = Some(opened?);
        }
        let Some(connection) = self.connection.as_mut() else {
            return Err(SendFailure::NoConnection("no connection".to_owned()));
        };
        match tokio::time::timeout(SMTP_TIMEOUT, connection.send(envelope, message)).await {
            Err(_) => {
                self.connection = None;
                Err(SendFailure::Transient(
                    "the SMTP exchange timed out".to_owned(),
                ))
            }
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => {
                let failure = if error.is_permanent() {
                    SendFailure::Permanent {
                        code: error.status().map(u16::from),
                        reply: error.to_string(),
                    }
                } else {
                    SendFailure::Transient(error.to_string())
                };
                // lettre aborts the connection after any error: open a new one next time.
                self.connection = None;
                Err(failure)
            }
        }
    }
}

async fn connect(
    settings: &SmtpSettings,
    hello: &ClientId,
) -> Result<AsyncSmtpConnection, SendFailure> {
    let transient = |what: &str, error: &dyn std::fmt::Display| {
        SendFailure::NoConnection(format!("{what} {}: {error}", settings.describe()))
    };
    let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
        .await
        .map_err(|error| transient("cannot connect to", &error))?;
    tcp.set_nodelay(true)
        .map_err(|error| transient("cannot set TCP_NODELAY on", &error))?;
    let stream: Box<dyn AsyncTokioStream> = match settings.security {
        Security::Implicit => {
            let connector = native_tls::TlsConnector::new()
                .map_err(|error| transient("cannot set up TLS for", &error))?;
            let tls = tokio_native_tls::TlsConnector::from(connector)
                .connect(&settings.host, tcp)
                .await
                .map_err(|error| transient("TLS failed with", &error))?;
            Box::new(ImplicitTls(tls))
        }
        Security::Plain | Security::StartTls => Box::new(tcp),
    };
    let mut connection = AsyncSmtpConnection::connect_with_transport(stream, hello)
        .await
        .map_err(|error| transient("no greeting from", &error))?;
    if settings.security == Security::StartTls {
        let parameters = TlsParameters::new(settings.host.clone())
            .map_err(|error| transient("cannot set up TLS for", &error))?;
        connection
            .starttls(parameters, hello)
            .await
            .map_err(|error| transient("STARTTLS failed with", &error))?;
    }
    if let Some((user, password)) = &settings.credentials {
        connection
            .auth(
                &[Mechanism::Plain, Mechanism::Login],
                &Credentials::new(user.clone(), password.clone()),
            )
            .await
            .map_err(|error| transient("authentication failed with", &error))?;
    }
    Ok(connection)
}

/// A TLS stream lettre can drive: it only needs the peer's address besides reading and
/// writing.
#[derive(Debug)]
struct ImplicitTls(tokio_native_tls::TlsStream<TcpStream>);

impl AsyncTokioStream for ImplicitTls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().get_ref().get_ref().peer_addr()
    }
}

impl AsyncRead for ImplicitTls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(context, buffer)
    }
}

impl AsyncWrite for ImplicitTls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(context, buffer)
    }

    fn poll_flush(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(context)
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(context)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn smtp_urls_read_as_expected() {
        let plain = SmtpSettings::parse("smtp://catcher:1025").unwrap();
        assert_eq!((plain.port, plain.security), (1025, Security::Plain));
        let submission =
            SmtpSettings::parse("smtp://me%40x.org:p%3Ass@mail.x.org:587?tls=starttls").unwrap();
        assert_eq!(submission.security, Security::StartTls);
        assert_eq!(
            submission.credentials,
            Some(("me@x.org".to_owned(), "p:ss".to_owned()))
        );
        assert!(!submission.describe().contains("p:ss"));
        assert_eq!(SmtpSettings::parse("smtps://mail.x.org").unwrap().port, 465);
        assert!(SmtpSettings::parse("http://mail.x.org").is_err());
    }
}
