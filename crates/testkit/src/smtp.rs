//! An in-process SMTP server for tests.
//!
//! `SmtpSink::start()` listens on a random loopback port, accepts every message and keeps it
//! in memory so that a test can send mail through the real SMTP client code and then look at
//! what arrived: envelope, headers and decoded body parts. `Behaviour` makes it refuse some
//! recipients or answer slowly, to exercise bounces and cancellation.
//!
//! It speaks enough ESMTP for a normal client (EHLO, PIPELINING, 8BITMIME, SIZE) but no TLS
//! and no AUTH. It is not a mail parser either: the body helpers handle what our own mailer
//! produces (single-part or multipart, quoted-printable or base64), not every message
//! that could exist.
//!
//! Dropping the `SmtpSink` stops the server and closes its connections.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// Advertised in EHLO; also the size above which MAIL FROM's SIZE= is refused.
const MAX_MESSAGE_SIZE: usize = 52_428_800;

/// Multipart nesting deeper than this is returned as an opaque part; real messages nest two
/// or three levels.
const MAX_MULTIPART_DEPTH: usize = 8;

/// How often `wait_for` looks at the received messages.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// The sink's answer to a RCPT TO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RcptReply {
    Accept,
    /// A reply code and text, e.g. `550` and `5.1.1 no such user`, or `451` and
    /// `4.3.0 try later`.
    Reject(u16, String),
}

/// How the sink answers.
#[derive(Clone)]
pub struct Behaviour {
    /// Decides each RCPT TO from its address (without the angle brackets).
    pub rcpt_rule: Arc<dyn Fn(&str) -> RcptReply + Send + Sync>,
    /// Sleep this long before answering the end of DATA, so that a test can observe or
    /// cancel a sender half-way through a campaign.
    pub delay_per_message: Option<Duration>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            rcpt_rule: Arc::new(|_| RcptReply::Accept),
            delay_per_message: None,
        }
    }
}

impl fmt::Debug for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Behaviour")
            .field("rcpt_rule", &"<fn>")
            .field("delay_per_message", &self.delay_per_message)
            .finish()
    }
}

/// A message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The MAIL FROM address without angle brackets; empty for the null sender `<>`.
    pub from: String,
    /// The accepted RCPT TO addresses, in order; refused ones are not here.
    pub to: Vec<String>,
    /// The DATA content with dot-stuffing undone and CRLF line ends kept.
    pub data: String,
}

impl ReceivedMessage {
    /// The first header called `name` (any case) in the message's header block, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let (headers, _) = split_headers(&self.data);
        find_header(&headers, name)
    }

    /// The leaf body parts as (media type, decoded text) in document order.
    ///
    /// The media type is lower-cased and without parameters (`text/html`). Multipart
    /// bodies (alternative, mixed, related, nested) are flattened; a single-part message
    /// gives one entry. Quoted-printable and base64 are decoded and the bytes read as
    /// UTF-8 (lossily); a base64 body that does not decode is returned as it was.
    pub fn body_parts(&self) -> Vec<(String, String)> {
        let mut parts = Vec::new();
        collect_parts(&self.data, 0, &mut parts);
        parts
    }
}

/// A running SMTP server; stops when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
    task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink that accepts every recipient, on 127.0.0.1 and a free port.
    pub async fn start() -> io::Result<SmtpSink> {
        SmtpSink::start_with(Behaviour::default()).await
    }

    /// Starts a sink that answers as `behaviour` says.
    pub async fn start_with(behaviour: Behaviour) -> io::Result<SmtpSink> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::new(behaviour),
            Arc::clone(&messages),
        ));
        Ok(SmtpSink {
            port,
            messages,
            task,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        lock(&self.messages).clone()
    }

    pub fn count(&self) -> usize {
        lock(&self.messages).len()
    }

    /// Waits until at least `count` messages have arrived and returns them all, or fails
    /// after `timeout` saying how many did arrive.
    pub async fn wait_for(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedMessage>, String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return Ok(messages);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(format!(
                    "expected {count} message(s) at the SMTP sink within {timeout:?}, \
                     got {}",
                    messages.len()
                ));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Aborting the accept loop drops its JoinSet, which aborts every connection task.
        self.task.abort();
    }
}

fn lock(messages: &Mutex<Vec<ReceivedMessage>>) -> MutexGuard<'_, Vec<ReceivedMessage>> {
    // Only pushes and clones happen under this lock, so a poisoned one still holds a valid
    // list; a test should see the messages rather than a second panic.
    messages
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn accept_loop(
    listener: TcpListener,
    behaviour: Arc<Behaviour>,
    messages: Arc<Mutex<Vec<ReceivedMessage>>>,
) {
    let mut connections = JoinSet::new();
    loop {
        // Reap finished connections so that the set does not grow for the sink's lifetime.
        while connections.try_join_next().is_some() {}
        match listener.accept().await {
            Ok((stream, _)) => {
                let behaviour = Arc::clone(&behaviour);
                let messages = Arc::clone(&messages);
                connections.spawn(async move {
                    // A connection ends with an I/O error when the client hangs up
                    // mid-conversation; that is the client's business, not a sink failure.
                    let _ = serve(stream, &behaviour, &messages).await;
                });
            }
            Err(_) => {
                // accept fails transiently (e.g. too many open files); back off rather
                // than spin, and keep serving.
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One SMTP transaction's envelope.
#[derive(Default)]
struct Envelope {
    from: Option<String>,
    to: Vec<String>,
}

async fn serve(
    stream: TcpStream,
    behaviour: &Behaviour,
    messages: &Mutex<Vec<ReceivedMessage>>,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    // Buffered, so that pipelined commands arriving in one packet are read line by line
    // and whatever follows the current line stays in the buffer for the next read.
    let mut reader = BufReader::new(read);
    reply(&mut write, "220 sink ESMTP").await?;

    let mut greeted = false;
    let mut envelope = Envelope::default();
    while let Some(line) = read_line(&mut reader).await? {
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                greeted = true;
                envelope = Envelope::default();
                reply(
                    &mut write,
                    &format!(
                        "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE {MAX_MESSAGE_SIZE}"
                    ),
                )
                .await?;
            }
            "HELO" => {
                greeted = true;
                envelope = Envelope::default();
                reply(&mut write, "250 sink").await?;
            }
            "MAIL" => {
                let answer = mail_from(command, greeted, &mut envelope);
                reply(&mut write, &answer).await?;
            }
            "RCPT" => {
                let answer = rcpt_to(command, behaviour, &mut envelope);
                reply(&mut write, &answer).await?;
            }
            "DATA" => {
                if envelope.from.is_none() {
                    reply(&mut write, "503 5.5.1 Error: need MAIL command").await?;
                    continue;
                }
                if envelope.to.is_empty() {
                    // What Postfix says when every RCPT was refused; a pipelining client
                    // sends DATA anyway and must not then send the content.
                    reply(&mut write, "554 5.5.1 Error: no valid recipients").await?;
                    continue;
                }
                reply(&mut write, "354 End data with <CR><LF>.<CR><LF>").await?;
                let Some(data) = read_data(&mut reader).await? else {
                    // The client hung up in the middle of the content: nothing to keep.
                    return Ok(());
                };
                if let Some(delay) = behaviour.delay_per_message {
                    tokio::time::sleep(delay).await;
                }
                let envelope = std::mem::take(&mut envelope);
                let number = {
                    let mut messages = lock(messages);
                    messages.push(ReceivedMessage {
                        from: envelope.from.unwrap_or_default(),
                        to: envelope.to,
                        data,
                    });
                    messages.len()
                };
                reply(&mut write, &format!("250 2.0.0 Ok: queued as {number}")).await?;
            }
            "RSET" => {
                envelope = Envelope::default();
                reply(&mut write, "250 2.0.0 Ok").await?;
            }
            "NOOP" => reply(&mut write, "250 2.0.0 Ok").await?,
            "QUIT" => {
                reply(&mut write, "221 2.0.0 Bye").await?;
                write.shutdown().await?;
                return Ok(());
            }
            _ => reply(&mut write, "502 5.5.2 Error: command not recognized").await?,
        }
    }
    Ok(())
}

fn mail_from(command: &str, greeted: bool, envelope: &mut Envelope) -> String {
    if !greeted {
        return "503 5.5.1 Error: send HELO/EHLO first".to_owned();
    }
    if envelope.from.is_some() {
        return "503 5.5.1 Error: nested MAIL command".to_owned();
    }
    let Some(argument) = strip_prefix_ignore_case(command, "MAIL FROM:") else {
        return "501 5.5.4 Syntax: MAIL FROM:<address>".to_owned();
    };
    let Some((address, parameters)) = parse_path(argument) else {
        return "501 5.1.7 Bad sender address syntax".to_owned();
    };
    for parameter in parameters.split_whitespace() {
        if let Some(size) = strip_prefix_ignore_case(parameter, "SIZE=")
            && size
                .parse::<usize>()
                .is_ok_and(|size| size > MAX_MESSAGE_SIZE)
        {
            return "552 5.3.4 Message size exceeds fixed limit".to_owned();
        }
    }
    envelope.from = Some(address);
    "250 2.1.0 Ok".to_owned()
}

fn rcpt_to(command: &str, behaviour: &Behaviour, envelope: &mut Envelope) -> String {
    if envelope.from.is_none() {
        return "503 5.5.1 Error: need MAIL command".to_owned();
    }
    let Some(argument) = strip_prefix_ignore_case(command, "RCPT TO:") else {
        return "501 5.5.4 Syntax: RCPT TO:<address>".to_owned();
    };
    let Some((address, _)) = parse_path(argument) else {
        return "501 5.1.3 Bad recipient address syntax".to_owned();
    };
    if address.is_empty() {
        return "501 5.1.3 Bad recipient address syntax".to_owned();
    }
    match (behaviour.rcpt_rule)(&address) {
        RcptReply::Accept => {
            envelope.to.push(address);
            "250 2.1.5 Ok".to_owned()
        }
        RcptReply::Reject(code, text) => format!("{code} {text}"),
    }
}

/// Splits `<address> PARAMS` (or a bare `address PARAMS`, which some clients send) into
/// the address and the rest.
fn parse_path(argument: &str) -> Option<(String, &str)> {
    let argument = argument.trim_start();
    if let Some(rest) = argument.strip_prefix('<') {
        let end = rest.find('>')?;
        Some((rest[..end].to_owned(), &rest[end + 1..]))
    } else {
        let mut pieces = argument.splitn(2, char::is_whitespace);
        let address = pieces.next().unwrap_or("");
        if address.is_empty() {
            return None;
        }
        Some((address.to_owned(), pieces.next().unwrap_or("")))
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// Reads one line including its end, or `None` at the end of the stream. Bytes that are
/// not UTF-8 (8BITMIME lets clients send them) are replaced rather than refused.
async fn read_line(reader: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<String>> {
    let mut bytes = Vec::new();
    let read = reader.read_until(b'\n', &mut bytes).await?;
    if read == 0 {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

/// Reads DATA content up to the lone `.` line, undoing dot-stuffing; `None` if the stream
/// ends first.
async fn read_data(reader: &mut BufReader<OwnedReadHalf>) -> io::Result<Option<String>> {
    let mut data = String::new();
    loop {
        let Some(line) = read_line(reader).await? else {
            return Ok(None);
        };
        if line == ".\r\n" || line == ".\n" {
            return Ok(Some(data));
        }
        match line.strip_prefix('.') {
            Some(unstuffed) => data.push_str(unstuffed),
            None => data.push_str(&line),
        }
    }
}

async fn reply(write: &mut OwnedWriteHalf, text: &str) -> io::Result<()> {
    write.write_all(format!("{text}\r\n").as_bytes()).await
}

/// Splits a message (or a MIME part) into its unfolded header fields and its body. Without
/// an empty line, everything is headers.
fn split_headers(text: &str) -> (Vec<(String, String)>, &str) {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, next) = match rest.find('\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, ""),
        };
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            return (fields, next);
        }
        if line.starts_with([' ', '\t']) {
            // A folded line: unfolding removes only the line break, keeping the blank.
            if let Some((_, value)) = fields.last_mut() {
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_owned(), value.to_owned()));
        }
        rest = next;
    }
    (fields, "")
}

fn find_header(fields: &[(String, String)], name: &str) -> Option<String> {
    fields
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.trim().to_owned())
}

/// The value of parameter `name` in a header such as
/// `multipart/alternative; boundary="abc"`.
fn header_parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|parameter| {
        let (key, value) = parameter.split_once('=')?;
        if key.trim().eq_ignore_ascii_case(name) {
            Some(value.trim().trim_matches('"').to_owned())
        } else {
            None
        }
    })
}

fn collect_parts(entity: &str, depth: usize, parts: &mut Vec<(String, String)>) {
    let (fields, body) = split_headers(entity);
    let content_type = find_header(&fields, "Content-Type").unwrap_or_default();
    let media_type = match content_type.split(';').next().map(str::trim) {
        Some(media_type) if !media_type.is_empty() => media_type.to_ascii_lowercase(),
        _ => "text/plain".to_owned(),
    };

    // A multipart without a boundary cannot be split; it falls through as one opaque part.
    if media_type.starts_with("multipart/")
        && depth < MAX_MULTIPART_DEPTH
        && let Some(boundary) = header_parameter(&content_type, "boundary")
    {
        for part in split_multipart(body, &boundary) {
            collect_parts(part, depth + 1, parts);
        }
        return;
    }

    let encoding = find_header(&fields, "Content-Transfer-Encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let decoded = match encoding.as_str() {
        "quoted-printable" => String::from_utf8_lossy(&decode_quoted_printable(body)).into_owned(),
        "base64" => match decode_base64(body) {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => body.to_owned(),
        },
        _ => body.to_owned(),
    };
    parts.push((media_type, decoded));
}

/// The parts between `--boundary` lines, up to `--boundary--`. The line break before a
/// delimiter belongs to the delimiter (RFC 2046), so it is not part of the content.
fn split_multipart<'a>(body: &'a str, boundary: &str) -> Vec<&'a str> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut line_start = 0;
    while line_start < body.len() {
        let line_end = match body[line_start..].find('\n') {
            Some(offset) => line_start + offset + 1,
            None => body.len(),
        };
        let line = body[line_start..line_end].trim_end();
        if let Some(after) = line.strip_prefix(delimiter.as_str())
            && (after.is_empty() || after == "--")
        {
            if let Some(start) = part_start {
                parts.push(strip_line_end(&body[start..line_start]));
            }
            if after == "--" {
                return parts;
            }
            part_start = Some(line_end);
        }
        line_start = line_end;
    }
    // No closing delimiter: keep what there is of the last part.
    if let Some(start) = part_start {
        parts.push(strip_line_end(&body[start..]));
    }
    parts
}

fn strip_line_end(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

/// Decodes quoted-printable (RFC 2045 section 6.7): `=XX` hex escapes and `=` soft line
/// breaks. Malformed escapes are kept as they are, as the RFC suggests.
fn decode_quoted_printable(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (content, line_end) = match line.strip_suffix("\r\n") {
            Some(content) => (content, "\r\n"),
            None => match line.strip_suffix('\n') {
                Some(content) => (content, "\n"),
                None => (line, ""),
            },
        };
        // Trailing blanks may have been added in transport and are not content.
        let content = content.trim_end_matches([' ', '\t']);
        let (content, soft_break) = match content.strip_suffix('=') {
            Some(content) => (content, true),
            None => (content, false),
        };
        let bytes = content.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if byte == b'=' {
                let high = bytes.get(index + 1).copied().and_then(hex_value);
                let low = bytes.get(index + 2).copied().and_then(hex_value);
                if let (Some(high), Some(low)) = (high, low) {
                    out.push(high * 16 + low);
                    index += 3;
                    continue;
                }
            }
            out.push(byte);
            index += 1;
        }
        if !soft_break {
            out.extend_from_slice(line_end.as_bytes());
        }
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

/// Decodes standard-alphabet base64, ignoring whitespace and stopping at padding; `None`
/// for any other character or a dangling final character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    let mut symbols = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        symbols += 1;
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // Only the low byte is wanted; the bits above it were output already.
            out.push(((buffer >> bits) & 0xFF) as u8);
        }
    }
    // One symbol carries six bits, not enough for a byte: the input was cut short.
    if symbols % 4 == 1 {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// A minimal SMTP client: writes raw lines and reads (possibly multi-line) replies.
    struct Client {
        reader: BufReader<OwnedReadHalf>,
        writer: OwnedWriteHalf,
    }

    impl Client {
        async fn connect(sink: &SmtpSink) -> Client {
            let stream = TcpStream::connect(("127.0.0.1", sink.port()))
                .await
                .unwrap();
            let (read, writer) = stream.into_split();
            let mut client = Client {
                reader: BufReader::new(read),
                writer,
            };
            assert_eq!(client.reply().await, "220 sink ESMTP");
            client
        }

        async fn send(&mut self, text: &str) {
            self.writer.write_all(text.as_bytes()).await.unwrap();
        }

        /// Reads one reply; for a multi-line reply, all its lines joined with '\n'.
        async fn reply(&mut self) -> String {
            let mut lines = Vec::new();
            loop {
                let mut line = String::new();
                let read =
                    tokio::time::timeout(Duration::from_secs(5), self.reader.read_line(&mut line))
                        .await
                        .expect("reply within 5 s")
                        .unwrap();
                assert!(read > 0, "connection closed; replies so far: {lines:?}");
                let line = line.trim_end().to_owned();
                let last = line.as_bytes().get(3) != Some(&b'-');
                lines.push(line);
                if last {
                    return lines.join("\n");
                }
            }
        }

        async fn command(&mut self, line: &str) -> String {
            self.send(&format!("{line}\r\n")).await;
            self.reply().await
        }

        async fn ehlo(&mut self) {
            let reply = self.command("EHLO client.example").await;
            assert!(reply.starts_with("250-sink"), "{reply}");
            assert!(reply.contains("250-PIPELINING"), "{reply}");
            assert!(reply.contains("250-8BITMIME"), "{reply}");
            assert!(reply.ends_with("250 SIZE 52428800"), "{reply}");
        }

        /// Sends one message command by command, the content given unstuffed.
        async fn send_message(&mut self, from: &str, to: &[&str], content: &str) -> String {
            assert!(
                self.command(&format!("MAIL FROM:<{from}>"))
                    .await
                    .starts_with("250")
            );
            for rcpt in to {
                assert!(
                    self.command(&format!("RCPT TO:<{rcpt}>"))
                        .await
                        .starts_with("250")
                );
            }
            assert!(self.command("DATA").await.starts_with("354"));
            self.send(&format!("{}.\r\n", dot_stuff(content))).await;
            self.reply().await
        }
    }

    fn dot_stuff(content: &str) -> String {
        content
            .split_inclusive("\r\n")
            .map(|line| {
                if line.starts_with('.') {
                    format!(".{line}")
                } else {
                    line.to_owned()
                }
            })
            .collect()
    }

    const WAIT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn receives_a_message_command_by_command_and_undoes_dot_stuffing() {
        let sink = SmtpSink::start().await.unwrap();
        assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;
        let content = "From: a@example.com\r\nSubject: Hi\r\n\r\nline one\r\n.leading dot\r\n.\r\n..two\r\nend\r\n";
        let reply = client
            .send_message(
                "a@example.com",
                &["b@example.org", "c@example.org"],
                content,
            )
            .await;
        assert_eq!(reply, "250 2.0.0 Ok: queued as 1");
        assert_eq!(client.command("QUIT").await, "221 2.0.0 Bye");

        let messages = sink.wait_for(1, WAIT).await.unwrap();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].from, "a@example.com");
        assert_eq!(messages[0].to, vec!["b@example.org", "c@example.org"]);
        assert_eq!(messages[0].data, content);
        assert_eq!(messages[0].header("subject").as_deref(), Some("Hi"));
        assert_eq!(sink.count(), 1);
    }

    #[tokio::test]
    async fn handles_pipelined_commands_and_several_messages_per_connection() {
        let sink = SmtpSink::start().await.unwrap();
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;

        client
            .send(
                "MAIL FROM:<bounce@example.com> BODY=8BITMIME SIZE=123\r\n\
                 RCPT TO:<x@example.org>\r\n\
                 RCPT TO:<y@example.org>\r\n\
                 DATA\r\n",
            )
            .await;
        assert_eq!(client.reply().await, "250 2.1.0 Ok");
        assert_eq!(client.reply().await, "250 2.1.5 Ok");
        assert_eq!(client.reply().await, "250 2.1.5 Ok");
        assert!(client.reply().await.starts_with("354"));

        // The end of one message and the next transaction in a single write.
        client
            .send(
                "Subject: one\r\n\r\nfirst\r\n.\r\n\
                 MAIL FROM:<> BODY=8BITMIME\r\n\
                 RCPT TO:<z@example.org>\r\n\
                 DATA\r\n",
            )
            .await;
        assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as 1");
        assert_eq!(client.reply().await, "250 2.1.0 Ok");
        assert_eq!(client.reply().await, "250 2.1.5 Ok");
        assert!(client.reply().await.starts_with("354"));
        client
            .send("Subject: two\r\n\r\n..second\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
            .await;
        assert_eq!(client.reply().await, "250 2.0.0 Ok: queued as 2");
        assert_eq!(client.reply().await, "250 2.0.0 Ok");
        assert_eq!(client.reply().await, "250 2.0.0 Ok");
        assert_eq!(client.reply().await, "221 2.0.0 Bye");

        let messages = sink.wait_for(2, WAIT).await.unwrap();
        assert_eq!(messages[0].from, "bounce@example.com");
        assert_eq!(messages[0].to, vec!["x@example.org", "y@example.org"]);
        assert_eq!(messages[0].data, "Subject: one\r\n\r\nfirst\r\n");
        assert_eq!(messages[1].from, "");
        assert_eq!(messages[1].to, vec!["z@example.org"]);
        assert_eq!(messages[1].data, "Subject: two\r\n\r\n.second\r\n");
    }

    #[tokio::test]
    async fn rejected_recipients_are_not_recorded() {
        let behaviour = Behaviour {
            rcpt_rule: Arc::new(|address| {
                if address.starts_with("nobody@") {
                    RcptReply::Reject(550, "5.1.1 no such user".to_owned())
                } else if address.starts_with("busy@") {
                    RcptReply::Reject(451, "4.3.0 try later".to_owned())
                } else {
                    RcptReply::Accept
                }
            }),
            ..Behaviour::default()
        };
        let sink = SmtpSink::start_with(behaviour).await.unwrap();
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;

        assert_eq!(
            client.command("MAIL FROM:<a@example.com>").await,
            "250 2.1.0 Ok"
        );
        assert_eq!(
            client.command("RCPT TO:<nobody@example.org>").await,
            "550 5.1.1 no such user"
        );
        assert_eq!(
            client.command("RCPT TO:<busy@example.org>").await,
            "451 4.3.0 try later"
        );
        assert_eq!(
            client.command("RCPT TO:<ok@example.org>").await,
            "250 2.1.5 Ok"
        );
        assert!(client.command("DATA").await.starts_with("354"));
        client.send("Subject: x\r\n\r\nbody\r\n.\r\n").await;
        assert!(client.reply().await.starts_with("250 2.0.0"));

        // Every recipient refused: DATA is refused and nothing is recorded, even when the
        // client pipelines DATA after the refusals.
        client
            .send("MAIL FROM:<a@example.com>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n")
            .await;
        assert_eq!(client.reply().await, "250 2.1.0 Ok");
        assert_eq!(client.reply().await, "550 5.1.1 no such user");
        assert_eq!(client.reply().await, "554 5.5.1 Error: no valid recipients");
        assert_eq!(client.command("RSET").await, "250 2.0.0 Ok");
        assert_eq!(client.command("QUIT").await, "221 2.0.0 Bye");

        let messages = sink.wait_for(1, WAIT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(sink.count(), 1);
        assert_eq!(messages[0].to, vec!["ok@example.org"]);
    }

    #[tokio::test]
    async fn answers_other_commands() {
        let sink = SmtpSink::start().await.unwrap();
        let mut client = Client::connect(&sink).await;
        assert_eq!(
            client.command("MAIL FROM:<a@example.com>").await,
            "503 5.5.1 Error: send HELO/EHLO first"
        );
        assert_eq!(client.command("HELO client.example").await, "250 sink");
        assert_eq!(client.command("noop").await, "250 2.0.0 Ok");
        assert_eq!(
            client.command("VRFY someone").await,
            "502 5.5.2 Error: command not recognized"
        );
        assert_eq!(
            client.command("STARTTLS").await,
            "502 5.5.2 Error: command not recognized"
        );
        assert_eq!(
            client.command("RCPT TO:<b@example.org>").await,
            "503 5.5.1 Error: need MAIL command"
        );
        assert_eq!(
            client.command("DATA").await,
            "503 5.5.1 Error: need MAIL command"
        );
        assert_eq!(
            client.command("mail from:<a@example.com>").await,
            "250 2.1.0 Ok"
        );
        assert_eq!(
            client.command("MAIL FROM:<a@example.com>").await,
            "503 5.5.1 Error: nested MAIL command"
        );
        assert_eq!(client.command("RSET").await, "250 2.0.0 Ok");
        assert_eq!(
            client
                .command("MAIL FROM:<a@example.com> SIZE=99999999999")
                .await,
            "552 5.3.4 Message size exceeds fixed limit"
        );
        assert_eq!(client.command("QUIT").await, "221 2.0.0 Bye");
        let mut rest = String::new();
        client.reader.read_line(&mut rest).await.unwrap();
        assert_eq!(rest, "", "the sink closes after QUIT");
        assert_eq!(sink.count(), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_concurrent_connections() {
        let sink = Arc::new(SmtpSink::start().await.unwrap());
        let mut clients = Vec::new();
        for n in 0..5 {
            let sink = Arc::clone(&sink);
            clients.push(tokio::spawn(async move {
                let mut client = Client::connect(&sink).await;
                client.ehlo().await;
                for m in 0..3 {
                    let content = format!("Subject: {n}-{m}\r\n\r\nhello\r\n");
                    let reply = client
                        .send_message("a@example.com", &["b@example.org"], &content)
                        .await;
                    assert!(reply.starts_with("250 2.0.0 Ok: queued as "), "{reply}");
                }
                client.command("QUIT").await;
            }));
        }
        for client in clients {
            client.await.unwrap();
        }
        let messages = sink.wait_for(15, WAIT).await.unwrap();
        let mut subjects: Vec<String> = messages
            .iter()
            .map(|message| message.header("Subject").unwrap())
            .collect();
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), 15);
    }

    #[tokio::test]
    async fn delay_holds_back_the_end_of_data_reply() {
        let behaviour = Behaviour {
            delay_per_message: Some(Duration::from_millis(300)),
            ..Behaviour::default()
        };
        let sink = SmtpSink::start_with(behaviour).await.unwrap();
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;
        let started = std::time::Instant::now();
        let reply = client
            .send_message(
                "a@example.com",
                &["b@example.org"],
                "Subject: slow\r\n\r\nx\r\n",
            )
            .await;
        assert!(reply.starts_with("250 2.0.0"), "{reply}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(sink.count(), 1);
    }

    #[tokio::test]
    async fn wait_for_times_out_with_a_message() {
        let sink = SmtpSink::start().await.unwrap();
        let error = sink
            .wait_for(1, Duration::from_millis(30))
            .await
            .unwrap_err();
        assert!(error.contains("got 0"), "{error}");
    }

    #[tokio::test]
    async fn dropping_the_sink_stops_the_server_and_its_connections() {
        let sink = SmtpSink::start().await.unwrap();
        let port = sink.port();
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;
        drop(sink);

        let mut rest = String::new();
        let read = tokio::time::timeout(WAIT, client.reader.read_line(&mut rest))
            .await
            .expect("the open connection is closed");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?} {rest:?}");

        let mut refused = false;
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "the sink still accepts connections after drop");
    }

    const ALTERNATIVE: &str = "From: Shop <news@shop.example>\r\n\
        To: b@example.org\r\n\
        Subject: =?utf-8?q?Caf=C3=A9?=\r\n\
        \tnews\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/alternative;\r\n\
        \tboundary=\"=_b0undary_1\"\r\n\
        \r\n\
        This is a multi-part message in MIME format.\r\n\
        \r\n\
        --=_b0undary_1\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        \r\n\
        Caf=C3=A9 is open. This line is long enough that it was wrapped with a so=\r\n\
        ft line break; an equals sign is =3D.  \r\n\
        Second line.\r\n\
        --=_b0undary_1\r\n\
        Content-Type: TEXT/HTML; charset=utf-8\r\n\
        Content-Transfer-Encoding: base64\r\n\
        \r\n\
        PHA+Q2Fmw6kgaXMgPGI+b3BlbjwvYj4uPC9wPg==\r\n\
        --=_b0undary_1--\r\n\
        epilogue\r\n";

    #[tokio::test]
    async fn decodes_a_multipart_alternative_message_sent_over_smtp() {
        let sink = SmtpSink::start().await.unwrap();
        let mut client = Client::connect(&sink).await;
        client.ehlo().await;
        let reply = client
            .send_message("news@shop.example", &["b@example.org"], ALTERNATIVE)
            .await;
        assert!(reply.starts_with("250 2.0.0"), "{reply}");
        let messages = sink.wait_for(1, WAIT).await.unwrap();
        let message = &messages[0];

        assert_eq!(
            message.header("FROM").as_deref(),
            Some("Shop <news@shop.example>")
        );
        assert_eq!(
            message.header("subject").as_deref(),
            Some("=?utf-8?q?Caf=C3=A9?=\tnews")
        );
        assert_eq!(message.header("X-Missing"), None);
        // Only the message's own header block counts, not the parts'.
        assert_eq!(message.header("Content-Transfer-Encoding"), None);

        let parts = message.body_parts();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(parts[0].0, "text/plain");
        assert_eq!(
            parts[0].1,
            "Café is open. This line is long enough that it was wrapped with a soft line \
             break; an equals sign is =.\r\nSecond line."
        );
        assert_eq!(parts[1].0, "text/html");
        assert_eq!(parts[1].1, "<p>Café is <b>open</b>.</p>");
    }

    #[test]
    fn flattens_nested_multipart() {
        let data = "Content-Type: multipart/mixed; boundary=outer\r\n\
            \r\n\
            --outer\r\n\
            Content-Type: multipart/alternative; boundary=\"inner\"\r\n\
            \r\n\
            --inner\r\n\
            Content-Type: text/plain\r\n\
            \r\n\
            plain\r\n\
            --inner\r\n\
            Content-Type: text/html\r\n\
            Content-Transfer-Encoding: 8bit\r\n\
            \r\n\
            <p>html</p>\r\n\
            --inner--\r\n\
            \r\n\
            --outer\r\n\
            Content-Type: application/octet-stream; name=a.txt\r\n\
            Content-Transfer-Encoding: base64\r\n\
            \r\n\
            YXR0YWNo\r\n\
            bWVudA==\r\n\
            --outer--\r\n";
        let message = ReceivedMessage {
            from: String::new(),
            to: Vec::new(),
            data: data.to_owned(),
        };
        let parts = message.body_parts();
        assert_eq!(
            parts,
            vec![
                ("text/plain".to_owned(), "plain".to_owned()),
                ("text/html".to_owned(), "<p>html</p>".to_owned()),
                (
                    "application/octet-stream".to_owned(),
                    "attachment".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn single_part_messages() {
        let plain = ReceivedMessage {
            from: String::new(),
            to: Vec::new(),
            data: "Subject: x\r\n\r\nHello\r\n".to_owned(),
        };
        assert_eq!(
            plain.body_parts(),
            vec![("text/plain".to_owned(), "Hello\r\n".to_owned())]
        );

        let quoted = ReceivedMessage {
            from: String::new(),
            to: Vec::new(),
            data: "Content-Type: text/html; charset=utf-8\r\n\
                   Content-Transfer-Encoding: Quoted-Printable\r\n\
                   \r\n\
                   <a href=3D\"x\">=E2=82=AC</a>=\r\n"
                .to_owned(),
        };
        assert_eq!(
            quoted.body_parts(),
            vec![("text/html".to_owned(), "<a href=\"x\">€</a>".to_owned())]
        );
    }

    #[test]
    fn base64_decoder() {
        let cases = [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9v\r\n YmFy", "foobar"),
            ("Zm9vYmE", "fooba"),
        ];
        for (encoded, decoded) in cases {
            assert_eq!(
                decode_base64(encoded).as_deref(),
                Some(decoded.as_bytes()),
                "{encoded:?}"
            );
        }
        assert_eq!(decode_base64("+/+/"), Some(vec![0xFB, 0xFF, 0xBF]));
        assert_eq!(decode_base64("Zm9v!"), None);
        assert_eq!(decode_base64("Zm9vY"), None);
    }

    #[test]
    fn quoted_printable_keeps_malformed_escapes() {
        assert_eq!(decode_quoted_printable("a=ZZb=4"), b"a=ZZb=4".to_vec());
        assert_eq!(decode_quoted_printable("a=4\n=41\n"), b"a=4\nA\n".to_vec());
    }
}
