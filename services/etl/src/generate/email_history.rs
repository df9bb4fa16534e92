//! Past e-mail experiments: who received which variant, what they did with it, and the
//! conversions it brought, for each customer on their own random stream. Variant rates are
//! the scenario's true ones; machine opens and link-scanner clicks come on top, flagged.

use rand::RngExt as _;
use rand_distr::{Distribution as _, Exp};
use uuid::Uuid;

use super::rows::RowWriter;
use super::world::{Life, Stream, World, midnight};

const IMAGE_PROXY: &str =
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
const LINK_SCANNER: &str = "Mozilla/5.0 (compatible; SafeLinks Scanner)";
const MAIL_CLIENT: &str =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
/// Chance that a message is opened by an image proxy, and clicked by a security scanner.
const MACHINE_OPEN: f64 = 0.12;
const SCANNER_CLICK: f64 = 0.02;
const BOUNCE: f64 = 0.012;
const UNSUBSCRIBE: f64 = 0.004;

/// One event of a message: (kind, when, bot reason, link).
type MessageEvent = (
    &'static str,
    i64,
    Option<&'static str>,
    Option<&'static str>,
);

/// What one customer did with one experiment's e-mail.
pub struct Receipt {
    pub experiment: usize,
    /// Position of the variant among all experiments' variants (its id minus one).
    pub variant: usize,
    pub bucket: f64,
    pub message_id: Uuid,
    pub sent_at: i64,
    pub events: Vec<MessageEvent>,
    pub conversion: Option<(i64, i64)>,
    pub unsubscribed: bool,
}

impl World {
    /// Variants before experiment `index`, across all experiments: ids are numbered in order.
    pub fn variant_offset(&self, index: usize) -> usize {
        self.scenario.email_experiments[..index]
            .iter()
            .map(|experiment| experiment.variants.len())
            .sum()
    }

    /// The e-mails customer `id` received, in send order. A customer who unsubscribed gets no more.
    pub fn receipts(&self, id: u64, life: &Life) -> Vec<Receipt> {
        let mut rng = self.rng(Stream::EmailHistory, id);
        let mut receipts = Vec::new();
        let mut unsubscribed = false;
        for (index, experiment) in self.scenario.email_experiments.iter().enumerate() {
            let send = midnight(experiment.send);
            let [low, high] = experiment.engagement;
            let eligible = !unsubscribed
                && life.email_consent
                && send < self.end()
                && (low..high).contains(&life.engagement)
                && life.subscribed_at(send);
            if !eligible {
                continue;
            }
            let bucket: f64 = rng.random();
            let chosen = ((bucket * experiment.variants.len() as f64) as usize)
                .min(experiment.variants.len() - 1);
            let variant = &experiment.variants[chosen];
            let mut bytes = [0_u8; 16];
            rng.fill(&mut bytes);
            let message_id = uuid::Builder::from_random_bytes(bytes).into_uuid();
            let sent_at = send + rng.random_range(0..6 * 3600);
            let mut events: Vec<MessageEvent> = Vec::new();
            let mut conversion = None;
            if rng.random::<f64>() < BOUNCE {
                events.push(("bounce", sent_at + 5, None, None));
            } else {
                let delivered = sent_at + rng.random_range(1..30);
                events.push(("delivered", delivered, None, None));
                if rng.random::<f64>() < MACHINE_OPEN {
                    events.push((
                        "open",
                        delivered + rng.random_range(1..120),
                        Some("image proxy"),
                        None,
                    ));
                }
                if rng.random::<f64>() < SCANNER_CLICK {
                    events.push((
                        "click",
                        delivered + rng.random_range(0..2),
                        Some("link scanner"),
                        Some("offer"),
                    ));
                }
                let hours = Exp::new(1.0 / 10.0)
                    .map(|d| d.sample(&mut rng))
                    .unwrap_or(1.0);
                let opened_at = delivered + 60 + (hours * 3600.0) as i64;
                if rng.random::<f64>() < variant.open_rate {
                    events.push(("open", opened_at, None, None));
                    if rng.random::<f64>() < variant.click_rate / variant.open_rate {
                        let clicked_at = opened_at + rng.random_range(5..600);
                        events.push(("click", clicked_at, None, Some("offer")));
                        if rng.random::<f64>() < variant.conversion_rate / variant.click_rate {
                            conversion = Some((
                                clicked_at + rng.random_range(60..3600),
                                experiment.offer_cents,
                            ));
                        }
                    }
                    if rng.random::<f64>() < UNSUBSCRIBE / variant.open_rate {
                        events.push((
                            "unsubscribe",
                            opened_at + rng.random_range(5..300),
                            None,
                            None,
                        ));
                        unsubscribed = true;
                    }
                }
            }
            receipts.push(Receipt {
                experiment: index,
                variant: self.variant_offset(index) + chosen,
                bucket,
                message_id,
                sent_at,
                events,
                conversion,
                unsubscribed,
            });
        }
        receipts
    }

    pub fn assignment_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let receipts = self.receipts(id, &life);
        for receipt in &receipts {
            RowWriter::new(out)
                .int(receipt.experiment as i64 + 1)
                .int(id as i64)
                .int(receipt.variant as i64 + 1)
                .float(receipt.bucket)
                .text("full")
                .timestamp(receipt.sent_at)
                .end();
        }
        receipts.len() as u64
    }

    pub fn message_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let receipts = self.receipts(id, &life);
        if receipts.is_empty() {
            return 0;
        }
        let email = self.email(id);
        for receipt in &receipts {
            let message_id = receipt.message_id.to_string();
            RowWriter::new(out)
                .text(&message_id)
                .int(receipt.experiment as i64 + 1)
                .int(id as i64)
                .int(receipt.variant as i64 + 1)
                .text(&email)
                .text("sent")
                .int(1)
                .timestamp(receipt.sent_at)
                .text(&format!("<{message_id}@streamlab.example>"))
                .timestamp(receipt.sent_at)
                .timestamp(receipt.sent_at)
                .end();
        }
        receipts.len() as u64
    }

    /// Message events without their ids (the loader numbers them).
    pub fn message_event_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let mut rows = 0;
        for receipt in self.receipts(id, &life) {
            let message_id = receipt.message_id.to_string();
            for (kind, at, bot_reason, link) in &receipt.events {
                let user_agent = match bot_reason {
                    Some("image proxy") => Some(IMAGE_PROXY),
                    Some(_) => Some(LINK_SCANNER),
                    None if matches!(*kind, "open" | "click" | "unsubscribe") => Some(MAIL_CLIENT),
                    None => None,
                };
                RowWriter::new(out)
                    .text(&message_id)
                    .text(kind)
                    .timestamp(*at)
                    .optional_text(user_agent)
                    .optional_text(*link)
                    .boolean(bot_reason.is_some())
                    .optional_text(*bot_reason)
                    .end();
                rows += 1;
            }
        }
        rows
    }

    /// Suppressions without their ids: the customers who unsubscribed.
    pub fn suppression_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let receipts = self.receipts(id, &life);
        let Some(receipt) = receipts.iter().find(|receipt| receipt.unsubscribed) else {
            return 0;
        };
        let at = receipt
            .events
            .iter()
            .find(|event| event.0 == "unsubscribe")
            .map(|event| event.1)
            .unwrap_or(receipt.sent_at);
        RowWriter::new(out)
            .text(&self.email(id))
            .int(id as i64)
            .text("unsubscribe")
            .text(&receipt.message_id.to_string())
            .timestamp(at)
            .end();
        1
    }
}
