//! Reading bounce and complaint reports.
//!
//! Receiving systems tell us about mail that failed with a delivery status notification
//! (DSN, RFC 3464: `multipart/report; report-type=delivery-status`) and about spam
//! complaints with an Abuse Reporting Format report (ARF, RFC 5965:
//! `multipart/report; report-type=feedback-report`). `parse` turns either into a `Report`
//! saying what happened, to whom, and which of our messages it is about.
//!
//! Reports in the wild are often sloppy MIME, so the parser does not walk the MIME tree.
//! It reads every header-like line of the document, grouped into blocks of consecutive
//! fields: that finds the DSN per-recipient blocks, the ARF fields and the Message-IDs of
//! the returned original message wherever they sit. Parts that are base64-encoded are not
//! looked into.

use std::fmt;

/// What a report says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Permanent failure: the address should not be mailed again.
    HardBounce,
    /// Temporary failure or delay: the address may work later.
    SoftBounce,
    /// The recipient marked the message as spam.
    Complaint,
}

/// A parsed bounce or complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub kind: ReportKind,
    /// Every Message-ID found anywhere in the document (fields named `Message-ID` or ending
    /// in `-Message-ID`), in order of appearance, without duplicates, angle brackets kept.
    /// The report's own Message-ID is among them; the caller matches them against the
    /// messages it sent.
    pub message_ids: Vec<String>,
    /// The failed recipient, lower-cased, without its address type (`rfc822;`). For a DSN
    /// the Original-Recipient (the address as we sent it) if given, else the
    /// Final-Recipient; for ARF the Original-Rcpt-To.
    pub recipient: Option<String>,
    /// The DSN status code, e.g. `5.1.1`.
    pub status: Option<String>,
    /// The DSN Diagnostic-Code, e.g. `smtp; 550 5.1.1 <a@b.example>: User unknown`.
    pub diagnostic: Option<String>,
}

/// Why a document was not turned into a `Report`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportError {
    /// A well-formed report that is not about a failure, such as a DSN for a successful
    /// delivery; the text says what it is.
    NotAFailure(String),
    /// Not a report this parser understands; the text says what was missing.
    Unrecognised(String),
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::NotAFailure(what) => {
                write!(f, "the report does not describe a failure: {what}")
            }
            ReportError::Unrecognised(what) => {
                write!(f, "not a recognised bounce or complaint report: {what}")
            }
        }
    }
}

impl std::error::Error for ReportError {}

/// One header-like line, unfolded; the name lower-cased.
#[derive(Debug)]
struct Field {
    name: String,
    value: String,
}

/// The header-like fields of one block of consecutive header-like lines.
type Block = Vec<Field>;

/// Reads a DSN or ARF report given as raw message text (CRLF or LF line ends).
pub fn parse(raw: &str) -> Result<Report, ReportError> {
    if raw.trim().is_empty() {
        return Err(ReportError::Unrecognised(
            "the document is empty".to_owned(),
        ));
    }
    let blocks = blocks(raw);
    let message_ids = message_ids(&blocks);

    // The top-level Content-Type says which kind of report this is; without it (or with a
    // wrong one) the fields themselves decide.
    let report_type = blocks
        .first()
        .and_then(|block| field(block, "content-type"))
        .and_then(|content_type| parameter(content_type, "report-type"))
        .map(|report_type| report_type.to_ascii_lowercase());
    let has_feedback_type = blocks
        .iter()
        .any(|block| field(block, "feedback-type").is_some());

    let is_feedback = match report_type.as_deref() {
        Some("feedback-report") => true,
        Some("delivery-status") => false,
        _ => has_feedback_type,
    };
    if is_feedback {
        feedback_report(&blocks, message_ids)
    } else {
        delivery_status(&blocks, message_ids)
    }
}

fn feedback_report(blocks: &[Block], message_ids: Vec<String>) -> Result<Report, ReportError> {
    let Some(feedback_block) = blocks
        .iter()
        .find(|block| field(block, "feedback-type").is_some())
    else {
        return Err(ReportError::Unrecognised(
            "a feedback report without a Feedback-Type field".to_owned(),
        ));
    };
    let feedback_type = field(feedback_block, "feedback-type")
        .unwrap_or_default()
        .to_ascii_lowercase();
    // RFC 5965 and 6591 types that are not a recipient complaining about our mail: a user
    // taking a message out of the spam folder, and reports about SPF/DKIM failures.
    if feedback_type == "not-spam" || feedback_type == "auth-failure" {
        return Err(ReportError::NotAFailure(format!(
            "a feedback report of type {feedback_type}, not a complaint"
        )));
    }
    let recipient = field(feedback_block, "original-rcpt-to")
        .or_else(|| {
            blocks
                .iter()
                .find_map(|block| field(block, "original-rcpt-to"))
        })
        .and_then(clean_address);
    Ok(Report {
        kind: ReportKind::Complaint,
        message_ids,
        recipient,
        status: None,
        diagnostic: None,
    })
}

fn delivery_status(blocks: &[Block], message_ids: Vec<String>) -> Result<Report, ReportError> {
    // Per-recipient blocks are the ones with an Action or Final-Recipient field; the
    // per-message block (Reporting-MTA, Arrival-Date) and the returned headers have neither.
    let recipients: Vec<&Block> = blocks
        .iter()
        .filter(|block| {
            field(block, "action").is_some() || field(block, "final-recipient").is_some()
        })
        .collect();
    if recipients.is_empty() {
        return Err(ReportError::Unrecognised(
            "no Feedback-Type field (ARF complaint) and no per-recipient Action or \
             Final-Recipient field (delivery status notification) was found"
                .to_owned(),
        ));
    }

    let mut chosen: Option<(&Block, ReportKind)> = None;
    let mut non_failures: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for block in &recipients {
        let action = field(block, "action").map(|action| action.to_ascii_lowercase());
        let status = field(block, "status").and_then(status_code);
        let status_class = status.as_deref().and_then(|status| status.chars().next());
        let kind = match (action.as_deref(), status_class) {
            (Some("failed"), Some('4')) => Some(ReportKind::SoftBounce),
            (Some("failed"), _) => Some(ReportKind::HardBounce),
            (Some("delayed"), _) => Some(ReportKind::SoftBounce),
            (Some(done @ ("delivered" | "relayed" | "expanded")), _) => {
                non_failures.push(done.to_owned());
                None
            }
            // No usable Action: the status class alone decides.
            (_, Some('5')) => Some(ReportKind::HardBounce),
            (_, Some('4')) => Some(ReportKind::SoftBounce),
            (Some(other), _) => {
                unknown.push(format!("Action: {other}"));
                None
            }
            (None, _) => {
                unknown.push("a recipient block without Action or failure Status".to_owned());
                None
            }
        };
        match (kind, chosen) {
            // The first hard failure wins; otherwise the first soft one.
            (Some(ReportKind::HardBounce), Some((_, ReportKind::SoftBounce)) | None) => {
                chosen = Some((block, ReportKind::HardBounce));
            }
            (Some(kind), None) => chosen = Some((block, kind)),
            _ => {}
        }
    }

    let Some((block, kind)) = chosen else {
        if !non_failures.is_empty() && unknown.is_empty() {
            return Err(ReportError::NotAFailure(format!(
                "a delivery status notification with Action: {}",
                non_failures.join(", ")
            )));
        }
        return Err(ReportError::Unrecognised(format!(
            "a delivery status notification without a failed or delayed recipient ({})",
            unknown
                .iter()
                .chain(non_failures.iter())
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        )));
    };

    // Original-Recipient is the address as we sent it; Final-Recipient may be the result
    // of aliasing or forwarding further along, which our ledger does not know.
    let recipient = field(block, "original-recipient")
        .and_then(clean_address)
        .or_else(|| field(block, "final-recipient").and_then(clean_address));
    Ok(Report {
        kind,
        message_ids,
        recipient,
        status: field(block, "status").and_then(status_code),
        diagnostic: field(block, "diagnostic-code")
            .map(str::trim)
            .filter(|diagnostic| !diagnostic.is_empty())
            .map(str::to_owned),
    })
}

/// Splits the document into blocks of consecutive header-like fields, unfolding
/// continuation lines. Blank lines and lines that are not fields (body text, base64, MIME
/// boundaries) separate blocks.
fn blocks(raw: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    let mut current: Block = Vec::new();
    // Whether a continuation line would extend the last field: only directly after it.
    let mut in_field = false;
    for line in raw.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            in_field = false;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if in_field && let Some(last) = current.last_mut() {
                // Folding whitespace is collapsed: these values are read by people and
                // compared, and MTAs fold with whatever indentation they like.
                last.value.push(' ');
                last.value.push_str(line.trim());
            }
            continue;
        }
        match header_line(line) {
            Some((name, value)) => {
                current.push(Field {
                    name: name.to_ascii_lowercase(),
                    value: value.trim().to_owned(),
                });
                in_field = true;
            }
            None => {
                // Prose, a MIME boundary or base64 ends the block: a real header block
                // never has such a line inside it, and this keeps the headers of the
                // next MIME part from being mixed into the DSN fields before it.
                if !current.is_empty() {
                    blocks.push(std::mem::take(&mut current));
                }
                in_field = false;
            }
        }
    }
    if !current.is_empty() {
        blocks.push(current);
    }
    blocks
}

/// `Name: value`, where the name is letters, digits and hyphens (stricter than RFC 5322,
/// so that ordinary prose is rarely taken for a field).
fn header_line(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    Some((name, value))
}

fn field<'a>(block: &'a [Field], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|field| field.name == name)
        .map(|field| field.value.as_str())
}

/// The value of parameter `name` in e.g. `multipart/report; report-type=delivery-status`.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|parameter| {
        let (key, value) = parameter.split_once('=')?;
        if key.trim().eq_ignore_ascii_case(name) {
            Some(value.trim().trim_matches('"').to_owned())
        } else {
            None
        }
    })
}

fn message_ids(blocks: &[Block]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for field in blocks.iter().flatten() {
        if field.name != "message-id" && !field.name.ends_with("-message-id") {
            continue;
        }
        for id in ids_in(&field.value) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The `<...>` tokens of a Message-ID value; a bare id (some systems drop the brackets) is
/// given brackets so that all ids compare alike.
fn ids_in(value: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut rest = value;
    while let Some(start) = rest.find('<') {
        let Some(length) = rest[start..].find('>') else {
            break;
        };
        let id = &rest[start..start + length + 1];
        if id.len() > 2 {
            ids.push(id.to_owned());
        }
        rest = &rest[start + length + 1..];
    }
    let value = value.trim();
    if ids.is_empty() && !value.is_empty() && !value.contains(char::is_whitespace) {
        ids.push(format!("<{value}>"));
    }
    ids
}

/// `rfc822; User@Example.COM` → `user@example.com`; `None` if nothing is left.
fn clean_address(value: &str) -> Option<String> {
    let address = match value.split_once(';') {
        Some((_, address)) => address,
        None => value,
    };
    let address = address
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if address.is_empty() {
        None
    } else {
        Some(address.to_lowercase())
    }
}

/// The `class.subject.detail` code at the start of a Status value (`5.1.1 (bad
/// mailbox)` gives `5.1.1`), if it is one.
fn status_code(value: &str) -> Option<String> {
    let code = value.split_whitespace().next()?;
    let mut pieces = code.split('.');
    let class = pieces.next()?;
    let subject = pieces.next()?;
    let detail = pieces.next()?;
    let numeric = |piece: &str| {
        !piece.is_empty() && piece.len() <= 3 && piece.chars().all(|c| c.is_ascii_digit())
    };
    if pieces.next().is_none()
        && matches!(class, "2" | "4" | "5")
        && numeric(subject)
        && numeric(detail)
    {
        Some(code.to_owned())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn crlf(text: &str) -> String {
        text.replace('\n', "\r\n")
    }

    const POSTFIX_HARD: &str = "\
Return-Path: <>
Received: by mx.sender.example (Postfix)
\tid 4F1A2B3C4D; Tue,  5 May 2026 10:15:02 +0000 (UTC)
Date: Tue,  5 May 2026 10:15:02 +0000 (UTC)
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: bounces+c42@mail.example.com
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary=\"4F1A2B3C4D.1746440102/mx.sender.example\"
Content-Transfer-Encoding: 8bit
Message-Id: <20260505101502.4F1A2B3C4D@mx.sender.example>

This is a MIME-encapsulated message.

--4F1A2B3C4D.1746440102/mx.sender.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<Ghost.User@Example.org>: host mx.example.org[203.0.113.5] said: 550 5.1.1
    <ghost.user@example.org>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--4F1A2B3C4D.1746440102/mx.sender.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
X-Postfix-Queue-ID: 4F1A2B3C4D
X-Postfix-Sender: rfc822; bounces+c42@mail.example.com
Arrival-Date: Tue,  5 May 2026 10:15:01 +0000 (UTC)

Final-Recipient: rfc822; Ghost.User@Example.org
Original-Recipient: rfc822;Ghost.User@Example.org
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; 550 5.1.1 <ghost.user@example.org>: Recipient address
    rejected: User unknown in virtual mailbox table

--4F1A2B3C4D.1746440102/mx.sender.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

Return-Path: <bounces+c42@mail.example.com>
Received: from app.example.com (app.example.com [198.51.100.7])
\tby mx.sender.example (Postfix) with ESMTP id 4F1A2B3C4D
\tfor <Ghost.User@Example.org>; Tue,  5 May 2026 10:15:01 +0000 (UTC)
From: Example News <news@mail.example.com>
To: Ghost.User@Example.org
Subject: Our May offers
Message-ID: <7f9c2a1e-8d4b-4c1a-9e2f-0b6d5c3a1f20@mail.example.com>
Date: Tue, 05 May 2026 10:15:00 +0000
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary=\"b1\"

--4F1A2B3C4D.1746440102/mx.sender.example--
";

    #[test]
    fn postfix_user_unknown_is_a_hard_bounce() {
        for raw in [POSTFIX_HARD.to_owned(), crlf(POSTFIX_HARD)] {
            let report = parse(&raw).unwrap();
            assert_eq!(report.kind, ReportKind::HardBounce);
            assert_eq!(report.recipient.as_deref(), Some("ghost.user@example.org"));
            assert_eq!(report.status.as_deref(), Some("5.1.1"));
            assert_eq!(
                report.diagnostic.as_deref(),
                Some(
                    "smtp; 550 5.1.1 <ghost.user@example.org>: Recipient address rejected: \
                     User unknown in virtual mailbox table"
                )
            );
            assert_eq!(
                report.message_ids,
                vec![
                    "<20260505101502.4F1A2B3C4D@mx.sender.example>",
                    "<7f9c2a1e-8d4b-4c1a-9e2f-0b6d5c3a1f20@mail.example.com>",
                ]
            );
        }
    }

    #[test]
    fn the_first_failed_recipient_counts() {
        let raw = "\
Content-Type: multipart/report; report-type=delivery-status; boundary=x

--x
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; fine@example.net
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; later@example.net
Action: delayed
Status: 4.2.2

Final-Recipient: rfc822; gone@example.net
Action: failed
Status: 5.1.1 (no such mailbox)
Diagnostic-Code: smtp; 550 gone

Final-Recipient: rfc822; also-gone@example.net
Action: failed
Status: 5.2.1

--x--
";
        let report = parse(raw).unwrap();
        assert_eq!(report.kind, ReportKind::HardBounce);
        assert_eq!(report.recipient.as_deref(), Some("gone@example.net"));
        assert_eq!(report.status.as_deref(), Some("5.1.1"));
        assert_eq!(report.diagnostic.as_deref(), Some("smtp; 550 gone"));
        assert!(report.message_ids.is_empty());
    }

    const DELAYED: &str = "\
From: Mail Delivery System <MAILER-DAEMON@relay.example.net>
To: bounces@mail.example.com
Subject: Delayed Mail (still being retried)
Message-ID: <delay-notice-1@relay.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
  boundary=\"DELAY\"

--DELAY
Content-Type: text/plain

This is a warning message only. YOU DO NOT NEED TO RESEND YOUR MESSAGE.

--DELAY
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net
Arrival-Date: Mon, 4 May 2026 08:00:00 +0000

final-recipient: RFC822; slow@Example.net
ACTION: delayed
status: 4.4.1
diagnostic-code: X-Postfix; connect to mx.example.net[192.0.2.10]:25:
  Connection timed out
Will-Retry-Until: Fri, 8 May 2026 08:00:00 +0000

--DELAY
Content-Type: text/rfc822-headers

Message-ID: <abc123@mail.example.com>
Subject: Hello

--DELAY--
";

    #[test]
    fn a_delayed_notice_is_a_soft_bounce() {
        let report = parse(DELAYED).unwrap();
        assert_eq!(report.kind, ReportKind::SoftBounce);
        assert_eq!(report.recipient.as_deref(), Some("slow@example.net"));
        assert_eq!(report.status.as_deref(), Some("4.4.1"));
        assert_eq!(
            report.diagnostic.as_deref(),
            Some("X-Postfix; connect to mx.example.net[192.0.2.10]:25: Connection timed out")
        );
        assert_eq!(
            report.message_ids,
            vec![
                "<delay-notice-1@relay.example.net>",
                "<abc123@mail.example.com>"
            ]
        );
    }

    #[test]
    fn a_failed_action_with_a_temporary_status_is_soft() {
        let raw = "Final-Recipient: rfc822; full@example.net\nAction: failed\nStatus: 4.2.2\n";
        let report = parse(raw).unwrap();
        assert_eq!(report.kind, ReportKind::SoftBounce);
        assert_eq!(report.recipient.as_deref(), Some("full@example.net"));
    }

    const ARF: &str = "\
Return-Path: <fbl@feedback.mailbox.example>
From: Feedback Loop <fbl@feedback.mailbox.example>
To: abuse@mail.example.com
Subject: FW: Our May offers
Date: Wed, 6 May 2026 09:30:00 +0000
Message-ID: <fbl-20260506093000-991@feedback.mailbox.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
\tboundary=\"----=_Part_991\"

------=_Part_991
Content-Type: text/plain; charset=\"US-ASCII\"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
198.51.100.7 on Wed, 6 May 2026 09:00:00 +0000.
For more information about this format please see
http://www.mipassoc.org/arf/.

------=_Part_991
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: MailboxFBL/1.0
Version: 1
Original-Mail-From: <bounces+c42@mail.example.com>
Original-Rcpt-To: <Angry.Reader@Mailbox.example>
Arrival-Date: Wed, 6 May 2026 09:00:00 +0000
Reporting-MTA: dns; mx.mailbox.example
Source-IP: 198.51.100.7
Authentication-Results: mx.mailbox.example; dkim=pass header.d=mail.example.com

------=_Part_991
Content-Type: message/rfc822
Content-Disposition: inline

Received: from app.example.com (app.example.com [198.51.100.7])
\tby mx.mailbox.example with ESMTP id 991; Wed, 6 May 2026 09:00:00 +0000
From: Example News <news@mail.example.com>
To: angry.reader@mailbox.example
Subject: Our May offers
Message-ID: <0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5@mail.example.com>
Date: Wed, 06 May 2026 08:59:59 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello! Our May offers are here.
Unsubscribe: https://mail.example.com/u/abc

------=_Part_991--
";

    #[test]
    fn an_arf_abuse_report_is_a_complaint() {
        for raw in [ARF.to_owned(), crlf(ARF)] {
            let report = parse(&raw).unwrap();
            assert_eq!(report.kind, ReportKind::Complaint);
            assert_eq!(
                report.recipient.as_deref(),
                Some("angry.reader@mailbox.example")
            );
            assert_eq!(report.status, None);
            assert_eq!(report.diagnostic, None);
            assert_eq!(
                report.message_ids,
                vec![
                    "<fbl-20260506093000-991@feedback.mailbox.example>",
                    "<0c1d2e3f-4a5b-6c7d-8e9f-a0b1c2d3e4f5@mail.example.com>",
                ]
            );
        }
    }

    #[test]
    fn a_feedback_type_without_the_report_content_type_is_still_a_complaint() {
        let raw = "Feedback-Type: abuse\nX-Original-Message-ID: abc@mail.example.com\n";
        let report = parse(raw).unwrap();
        assert_eq!(report.kind, ReportKind::Complaint);
        assert_eq!(report.recipient, None);
        assert_eq!(report.message_ids, vec!["<abc@mail.example.com>"]);
    }

    #[test]
    fn not_spam_feedback_is_not_a_complaint() {
        let raw = ARF.replace("Feedback-Type: abuse", "Feedback-Type: not-spam");
        assert!(matches!(parse(&raw), Err(ReportError::NotAFailure(_))));
    }

    #[test]
    fn a_success_notification_is_not_a_failure() {
        let raw = "\
From: MAILER-DAEMON@relay.example.net
Subject: Successful Mail Delivery Report
Content-Type: multipart/report; report-type=delivery-status; boundary=OK

--OK
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; happy@example.net
Original-Recipient: rfc822;happy@example.net
Action: relayed
Status: 2.0.0
Remote-MTA: dns; mx.example.net

--OK--
";
        let error = parse(raw).unwrap_err();
        assert_eq!(
            error,
            ReportError::NotAFailure(
                "a delivery status notification with Action: relayed".to_owned()
            )
        );
        assert_eq!(
            error.to_string(),
            "the report does not describe a failure: a delivery status notification with \
             Action: relayed"
        );
    }

    #[test]
    fn garbage_is_unrecognised() {
        let cases = [
            "",
            "   \n\n",
            "hello world, this is not a report",
            "From: someone@example.com\nSubject: out of office\n\nI am away until Monday.\n",
            "\u{0}\u{1}binary\u{fffd}\r\n:::\r\n--\r\n",
        ];
        for raw in cases {
            let error = parse(raw).unwrap_err();
            assert!(
                matches!(error, ReportError::Unrecognised(_)),
                "{raw:?}: {error:?}"
            );
            assert!(error.to_string().starts_with("not a recognised"), "{error}");
        }
        let error = parse("Final-Recipient: rfc822; a@b.example\nAction: exploded\n").unwrap_err();
        assert!(error.to_string().contains("Action: exploded"), "{error}");
    }

    #[test]
    fn status_codes_are_checked() {
        assert_eq!(status_code("5.1.1").as_deref(), Some("5.1.1"));
        assert_eq!(status_code("4.7.26 (policy)").as_deref(), Some("4.7.26"));
        assert_eq!(status_code("RO"), None);
        assert_eq!(status_code("3.1.1"), None);
        assert_eq!(status_code("5.1"), None);
        assert_eq!(status_code("5.1.1.1"), None);
    }
}
