//! Which tracked hits are machines, not people. Opens fetched by image proxies say nothing
//! about the reader; link scanners of mail security gateways follow every link on arrival.
//! Flagged hits are kept (with the reason) and left out of "human" opens and clicks.

/// User-agent fragments of image proxies and gateways that fetch images on delivery.
const IMAGE_PROXIES: &[&str] = &[
    "googleimageproxy",
    "ggpht.com",
    "yahoomailproxy",
    "mimecast",
    "barracuda",
    "proofpoint",
];

/// User-agent fragments of link scanners, previewers and scripts.
const LINK_SCANNERS: &[&str] = &[
    "barracuda",
    "mimecast",
    "proofpoint",
    "urldefense",
    "safelinks",
    "microsoft office",
    "python-requests",
    "curl/",
    "wget",
    "go-http-client",
    "headlesschrome",
    "slackbot",
    "facebookexternalhit",
    "bot",
    "crawler",
    "spider",
    "scanner",
];

/// Why an open is a machine's, if it is.
pub fn open_bot_reason(user_agent: Option<&str>) -> Option<&'static str> {
    let agent = user_agent.map(str::to_ascii_lowercase)?;
    IMAGE_PROXIES
        .iter()
        .any(|fragment| agent.contains(fragment))
        .then_some("image_proxy")
}

/// Why a click is a machine's, if it is (a click within two seconds of delivery is judged
/// where the delivery time is known: when the event is stored).
pub fn click_bot_reason(head_request: bool, user_agent: Option<&str>) -> Option<&'static str> {
    if head_request {
        return Some("head_request");
    }
    let Some(agent) = user_agent.map(str::to_ascii_lowercase) else {
        return Some("no_user_agent");
    };
    LINK_SCANNERS
        .iter()
        .any(|fragment| agent.contains(fragment))
        .then_some("link_scanner")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROWSER: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";

    #[test]
    fn people_and_machines_are_told_apart() {
        assert_eq!(open_bot_reason(Some(BROWSER)), None);
        assert_eq!(
            open_bot_reason(Some(
                "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
            )),
            Some("image_proxy")
        );
        assert_eq!(click_bot_reason(false, Some(BROWSER)), None);
        assert_eq!(click_bot_reason(true, Some(BROWSER)), Some("head_request"));
        assert_eq!(
            click_bot_reason(false, Some("python-requests/2.31")),
            Some("link_scanner")
        );
        assert_eq!(click_bot_reason(false, None), Some("no_user_agent"));
    }
}
