//! The simulated business. Everything about customer `id` comes from random streams seeded by
//! (scenario seed, stream, id), so any table can be generated for any customer on its own, in
//! any order, on any thread, and always comes out the same.

use chrono::{NaiveDate, NaiveTime};
use fake::Fake as _;
use fake::faker::name::en::{FirstName, LastName};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt as _, SeedableRng as _};
use rand_distr::{Distribution as _, LogNormal, Poisson};

use super::rows::RowWriter;
use super::scenario::Scenario;

const DAY: i64 = 86_400;
const MONTH: i64 = 30 * DAY;
const TRIAL_DAYS: i64 = 14;

/// The plans of the migration's seed: (id, monthly price in cents).
const STUDENT: (i64, i64) = (1, 500);
const FAMILY: (i64, i64) = (2, 1000);
const BASIC: (i64, i64) = (3, 700);
const PREMIUM: (i64, i64) = (4, 900);
/// Cheapest to dearest, for upgrades and downgrades.
const PLAN_LADDER: [(i64, i64); 4] = [STUDENT, BASIC, PREMIUM, FAMILY];

/// Independent random streams per customer.
#[derive(Clone, Copy)]
pub(super) enum Stream {
    Traits = 1,
    Identity = 2,
    Life = 3,
    Sessions = 4,
    Events = 5,
    Titles = 6,
    EmailHistory = 7,
    Consent = 8,
}

/// (country, region, cities, weight)
const GEOGRAPHY: [(&str, &str, [&str; 3], f64); 13] = [
    ("US", "West", ["Los Angeles", "Seattle", "Denver"], 0.14),
    ("US", "South", ["Houston", "Atlanta", "Miami"], 0.15),
    (
        "US",
        "Midwest",
        ["Chicago", "Columbus", "Minneapolis"],
        0.11,
    ),
    (
        "US",
        "Northeast",
        ["New York", "Boston", "Philadelphia"],
        0.12,
    ),
    ("GB", "England", ["London", "Manchester", "Bristol"], 0.13),
    ("GB", "Scotland", ["Glasgow", "Edinburgh", "Aberdeen"], 0.04),
    ("GB", "Wales", ["Cardiff", "Swansea", "Newport"], 0.03),
    ("CA", "Ontario", ["Toronto", "Ottawa", "Hamilton"], 0.07),
    ("CA", "Quebec", ["Montreal", "Quebec City", "Laval"], 0.05),
    (
        "CA",
        "British Columbia",
        ["Vancouver", "Victoria", "Surrey"],
        0.03,
    ),
    ("DE", "Bavaria", ["Munich", "Nuremberg", "Augsburg"], 0.06),
    ("DE", "Berlin", ["Berlin", "Spandau", "Pankow"], 0.04),
    ("DE", "Hamburg", ["Hamburg", "Altona", "Harburg"], 0.03),
];
const AGE_BANDS: [(&str, f64); 6] = [
    ("18-24", 0.18),
    ("25-34", 0.27),
    ("35-44", 0.22),
    ("45-54", 0.16),
    ("55-64", 0.11),
    ("65+", 0.06),
];
const DEVICES: [(&str, f64); 5] = [
    ("tv", 0.38),
    ("mobile", 0.30),
    ("desktop", 0.15),
    ("tablet", 0.12),
    ("console", 0.05),
];
const CHANNELS: [(&str, f64); 6] = [
    ("organic", 0.35),
    ("paid_search", 0.2),
    ("paid_social", 0.18),
    ("referral", 0.12),
    ("partner", 0.08),
    ("email", 0.07),
];
/// (genre, weight, shortest, longest minutes)
const GENRES: [(&str, f64, i64, i64); 10] = [
    ("Drama", 0.20, 85, 150),
    ("Comedy", 0.18, 80, 120),
    ("Action", 0.14, 95, 160),
    ("Thriller", 0.10, 90, 140),
    ("Documentary", 0.08, 45, 110),
    ("Romance", 0.07, 85, 130),
    ("Sci-Fi", 0.07, 95, 165),
    ("Horror", 0.06, 80, 115),
    ("Animation", 0.05, 70, 110),
    ("Family", 0.05, 75, 120),
];
const TITLE_ADJECTIVES: [&str; 24] = [
    "Silent", "Crimson", "Lost", "Hidden", "Last", "Golden", "Broken", "Endless", "Midnight",
    "Distant", "Wild", "Frozen", "Burning", "Secret", "Quiet", "Electric", "Paper", "Iron",
    "Velvet", "Hollow", "Bright", "Northern", "Restless", "Second",
];
const TITLE_NOUNS: [&str; 24] = [
    "River", "Kingdom", "Signal", "Garden", "Harbor", "Orbit", "Witness", "Summer", "Empire",
    "Letter", "Frontier", "Echo", "Voyage", "Machine", "Island", "Promise", "Shadow", "Crown",
    "Station", "Tide", "Forest", "Circuit", "Horizon", "Mirror",
];
const PERKS: [&str; 4] = [
    "cinema_ticket",
    "merch_discount",
    "early_access",
    "partner_voucher",
];

/// A catalogue entry, as the session simulation needs it.
#[derive(Debug, Clone)]
struct TitleInfo {
    genre_index: usize,
    duration_minutes: i64,
}

/// A subscription as simulated: plan, span, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulatedSubscription {
    /// A free trial: no revenue; it ends converted (`switched`) or not (`churned`).
    pub trial: bool,
    pub plan: (i64, i64),
    pub status: &'static str,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// What the other tables need to know about a customer.
#[derive(Debug, Clone)]
pub struct Life {
    pub region_index: usize,
    pub engagement: f64,
    pub email_consent: bool,
    pub signup_at: i64,
    pub subscriptions: Vec<SimulatedSubscription>,
    pub stream_with_friends_at: Option<i64>,
    pub perks_at: Option<i64>,
}

impl Life {
    /// Whether a subscription (trial or paid) covers `instant`.
    pub fn subscribed_at(&self, instant: i64) -> bool {
        self.subscriptions
            .iter()
            .any(|s| s.started_at <= instant && s.ended_at.is_none_or(|end| end > instant))
    }
}

pub struct World {
    pub scenario: Scenario,
    start: i64,
    end: i64,
    titles: Vec<TitleInfo>,
    /// Cumulative popularity of the titles (a Zipf-like long tail), for sampling.
    title_popularity: Vec<f64>,
}

/// Seconds since the epoch at the start of `date`, UTC.
pub(super) fn midnight(date: NaiveDate) -> i64 {
    date.and_time(NaiveTime::MIN).and_utc().timestamp()
}

/// SplitMix64: spreads (seed, stream, id) over the seed space.
fn mix(mut value: u64) -> u64 {
    value = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

fn pick<T: Copy>(rng: &mut Xoshiro256PlusPlus, items: &[(T, f64)]) -> T {
    let total: f64 = items.iter().map(|(_, weight)| weight).sum();
    let mut point = rng.random::<f64>() * total;
    for (item, weight) in items {
        if point < *weight {
            return *item;
        }
        point -= weight;
    }
    items[items.len() - 1].0
}

fn poisson(rng: &mut Xoshiro256PlusPlus, mean: f64) -> u64 {
    if mean <= 0.0 {
        return 0;
    }
    Poisson::new(mean)
        .map(|distribution| distribution.sample(rng) as u64)
        .unwrap_or(0)
}

impl World {
    pub fn new(scenario: Scenario) -> World {
        let start = midnight(scenario.start);
        let end = midnight(scenario.end());
        let mut rng =
            Xoshiro256PlusPlus::seed_from_u64(mix(mix(scenario.seed) ^ Stream::Titles as u64));
        let mut titles = Vec::with_capacity(scenario.titles as usize);
        let mut title_popularity = Vec::with_capacity(scenario.titles as usize);
        let mut cumulative = 0.0;
        for rank in 1..=scenario.titles {
            let genre_index = pick(&mut rng, &genre_weights());
            let (_, _, shortest, longest) = GENRES[genre_index];
            titles.push(TitleInfo {
                genre_index,
                duration_minutes: rng.random_range(shortest..=longest),
            });
            cumulative += 1.0 / f64::from(rank).powf(0.8);
            title_popularity.push(cumulative);
        }
        World {
            scenario,
            start,
            end,
            titles,
            title_popularity,
        }
    }

    pub(super) fn rng(&self, stream: Stream, id: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(mix(
            mix(self.scenario.seed ^ ((stream as u64) << 56)) ^ id
        ))
    }

    /// The catalogue row of title `id` (1-based), drawn in the same order as `World::new`.
    pub fn title_rows(&self, out: &mut Vec<u8>) -> u64 {
        let mut rng = self.rng(Stream::Titles, 0);
        for (index, title) in self.titles.iter().enumerate() {
            let adjective = TITLE_ADJECTIVES[rng.random_range(0..TITLE_ADJECTIVES.len())];
            let noun = TITLE_NOUNS[rng.random_range(0..TITLE_NOUNS.len())];
            let name = match index / (TITLE_ADJECTIVES.len() * TITLE_NOUNS.len()) {
                0 => format!("The {adjective} {noun}"),
                sequel => format!("The {adjective} {noun} {}", sequel + 1),
            };
            let year = rng.random_range(1970..=2026);
            let rating = (rng.random_range(30..=95) as f64) / 10.0;
            RowWriter::new(out)
                .int(index as i64 + 1)
                .text(&name)
                .text(GENRES[title.genre_index].0)
                .int(year)
                .int(title.duration_minutes)
                .float(rating)
                .timestamp(self.start)
                .end();
        }
        self.titles.len() as u64
    }

    /// Region, engagement, consent, signup, subscriptions and feature exposures of customer `id`.
    pub fn life(&self, id: u64) -> Life {
        let mut life = self.lifecycle(id);
        life.email_consent = self.rng(Stream::Consent, id).random::<f64>() < 0.7;
        life
    }

    fn lifecycle(&self, id: u64) -> Life {
        let scenario = &self.scenario;
        let mut traits = self.rng(Stream::Traits, id);
        let region_index = pick(
            &mut traits,
            &GEOGRAPHY
                .iter()
                .enumerate()
                .map(|(index, geo)| (index, geo.3))
                .collect::<Vec<_>>(),
        );
        let engagement = LogNormal::new(0.0, scenario.engagement.sigma)
            .map(|d| d.sample(&mut traits))
            .unwrap_or(1.0);
        // Signups grow over the period: the square root of a uniform draw leans late.
        let span = (self.end - self.start - DAY).max(DAY);
        let signup_at = self.start + (traits.random::<f64>().sqrt() * span as f64) as i64;

        let mut rng = self.rng(Stream::Life, id);
        let plan_weights = [
            (STUDENT, scenario.plans.student),
            (BASIC, scenario.plans.basic),
            (PREMIUM, scenario.plans.premium),
            (FAMILY, scenario.plans.family),
        ];
        let mut plan = pick(&mut rng, &plan_weights);
        let mut subscriptions = Vec::new();
        let mut now = signup_at;
        if rng.random::<f64>() < scenario.plans.trial_share {
            let trial_end = (now + TRIAL_DAYS * DAY).min(self.end);
            if trial_end >= self.end {
                subscriptions.push(SimulatedSubscription {
                    trial: true,
                    plan,
                    status: "trial",
                    started_at: now,
                    ended_at: None,
                });
                return self.with_exposures(region_index, engagement, signup_at, subscriptions);
            }
            let converts = rng.random::<f64>()
                < (scenario.plans.trial_conversion * engagement.sqrt()).min(1.0);
            let status = if converts { "switched" } else { "churned" };
            subscriptions.push(SimulatedSubscription {
                trial: true,
                plan,
                status,
                started_at: now,
                ended_at: Some(trial_end),
            });
            if !converts {
                return self.with_exposures(region_index, engagement, signup_at, subscriptions);
            }
            now = trial_end;
        }

        let region = GEOGRAPHY[region_index].1;
        let friends = &scenario.stream_with_friends;
        let perks = &scenario.subscriber_perks;
        let friends_from = friends
            .regions
            .iter()
            .any(|r| r == region)
            .then(|| midnight(friends.rollout));
        let perks_from = perks
            .regions
            .iter()
            .any(|r| r == region)
            .then(|| midnight(perks.rollout));
        let base_hazard =
            scenario.churn.monthly_rate * engagement.powf(-scenario.churn.engagement_elasticity);
        let mut started_at = now;
        loop {
            let month_end = now + MONTH;
            if month_end >= self.end {
                subscriptions.push(SimulatedSubscription {
                    trial: false,
                    plan,
                    status: "active",
                    started_at,
                    ended_at: None,
                });
                break;
            }
            let mut hazard = base_hazard;
            if friends_from.is_some_and(|from| now >= from) {
                hazard *= 1.0 + friends.churn_effect;
            }
            if perks_from.is_some_and(|from| now >= from) {
                hazard *= 1.0 + perks.churn_effect;
            }
            let draw = rng.random::<f64>();
            if draw < hazard.min(0.95) {
                let churned_at = now + rng.random_range(0..MONTH);
                subscriptions.push(SimulatedSubscription {
                    trial: false,
                    plan,
                    status: "churned",
                    started_at,
                    ended_at: Some(churned_at),
                });
                break;
            }
            let step = rng.random::<f64>();
            let rung = PLAN_LADDER
                .iter()
                .position(|candidate| *candidate == plan)
                .unwrap_or(1);
            let next = if step < scenario.plans.upgrade_rate && rung + 1 < PLAN_LADDER.len() {
                Some(PLAN_LADDER[rung + 1])
            } else if step > 1.0 - scenario.plans.downgrade_rate && rung > 0 {
                Some(PLAN_LADDER[rung - 1])
            } else {
                None
            };
            if let Some(next) = next {
                let switched_at = now + rng.random_range(0..MONTH);
                subscriptions.push(SimulatedSubscription {
                    trial: false,
                    plan,
                    status: "switched",
                    started_at,
                    ended_at: Some(switched_at),
                });
                plan = next;
                started_at = switched_at;
            }
            now = month_end;
        }
        self.with_exposures(region_index, engagement, signup_at, subscriptions)
    }

    /// A region's rollout reaches the customers subscribed on its date.
    fn with_exposures(
        &self,
        region_index: usize,
        engagement: f64,
        signup_at: i64,
        subscriptions: Vec<SimulatedSubscription>,
    ) -> Life {
        let mut life = Life {
            region_index,
            engagement,
            email_consent: false,
            signup_at,
            subscriptions,
            stream_with_friends_at: None,
            perks_at: None,
        };
        let region = GEOGRAPHY[region_index].1;
        let exposure = |regions: &[String], rollout: NaiveDate| {
            let at = midnight(rollout);
            (at < self.end && regions.iter().any(|r| r == region) && life.subscribed_at(at))
                .then_some(at)
        };
        let friends = &self.scenario.stream_with_friends;
        let perks = &self.scenario.subscriber_perks;
        let (stream_with_friends_at, perks_at) = (
            exposure(&friends.regions, friends.rollout),
            exposure(&perks.regions, perks.rollout),
        );
        life.stream_with_friends_at = stream_with_friends_at;
        life.perks_at = perks_at;
        life
    }

    /// First name, last name and e-mail of customer `id`, and the stream the rest of its
    /// profile is drawn from.
    fn identity(&self, id: u64) -> (String, String, String, Xoshiro256PlusPlus) {
        let mut traits = self.rng(Stream::Identity, id);
        let first: String = FirstName().fake_with_rng(&mut traits);
        let last: String = LastName().fake_with_rng(&mut traits);
        let local = |name: &str| {
            name.chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_lowercase()
        };
        let email = format!("{}.{}.{id}@example.com", local(&first), local(&last));
        (first, last, email, traits)
    }

    pub(super) fn email(&self, id: u64) -> String {
        self.identity(id).2
    }

    pub(super) fn end(&self) -> i64 {
        self.end
    }

    pub fn customer_row(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let (first, last, email, mut traits) = self.identity(id);
        let (country, region, cities, _) = GEOGRAPHY[life.region_index];
        let city = cities[traits.random_range(0..cities.len())];
        RowWriter::new(out)
            .int(id as i64)
            .text(&first)
            .text(&last)
            .text(&email)
            .boolean(life.email_consent)
            .text(country)
            .text(region)
            .text(city)
            .text(pick(&mut traits, &AGE_BANDS))
            .text(pick(&mut traits, &DEVICES))
            .text(pick(&mut traits, &CHANNELS))
            .timestamp(life.signup_at)
            // Created and updated when the customer signed up, in simulated time, so that
            // the same seed gives the same rows.
            .timestamp(life.signup_at)
            .timestamp(life.signup_at)
            .end();
        1
    }

    /// Subscription rows without their ids (the loader numbers them).
    pub fn subscription_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        for subscription in &life.subscriptions {
            RowWriter::new(out)
                .int(id as i64)
                .int(subscription.plan.0)
                .text(subscription.status)
                .timestamp(subscription.started_at)
                .optional_timestamp(subscription.ended_at)
                .optional_timestamp(
                    (subscription.status == "churned")
                        .then_some(subscription.ended_at)
                        .flatten(),
                )
                .timestamp(subscription.started_at)
                .end();
        }
        life.subscriptions.len() as u64
    }

    /// Watch sessions while subscribed; more of them for engaged customers and, after
    /// exposure, for customers with Stream with Friends.
    pub fn session_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let scenario = &self.scenario;
        let mut rng = self.rng(Stream::Sessions, id);
        let minutes_shape = LogNormal::new(
            (scenario.engagement.median_minutes * life.engagement.powf(0.3)).ln(),
            scenario.engagement.minutes_sigma,
        );
        let Ok(minutes_shape) = minutes_shape else {
            return 0;
        };
        let total_popularity = self.title_popularity.last().copied().unwrap_or(1.0);
        // (customer, started_at, title) is a natural key: a clash moves the session a second on.
        let mut taken = std::collections::HashSet::new();
        let mut rows = 0;
        for subscription in &life.subscriptions {
            let end = subscription.ended_at.unwrap_or(self.end).min(self.end);
            let mut month_start = subscription.started_at;
            while month_start < end {
                let month_end = (month_start + MONTH).min(end);
                let fraction = (month_end - month_start) as f64 / MONTH as f64;
                let mut rate = scenario.engagement.sessions_per_month * life.engagement * fraction;
                if life
                    .stream_with_friends_at
                    .is_some_and(|at| month_start >= at)
                {
                    rate *= 1.0 + scenario.stream_with_friends.watch_time_effect;
                }
                for _ in 0..poisson(&mut rng, rate) {
                    let mut started_at = rng.random_range(month_start..month_end);
                    let point = rng.random::<f64>() * total_popularity;
                    let title_index = self
                        .title_popularity
                        .partition_point(|cumulative| *cumulative < point)
                        .min(self.titles.len() - 1);
                    while !taken.insert((started_at, title_index)) {
                        started_at += 1;
                    }
                    let duration = self.titles[title_index].duration_minutes;
                    let minutes =
                        (minutes_shape.sample(&mut rng).round() as i64).clamp(1, duration * 3 / 2);
                    let completed = minutes * 10 >= duration * 9;
                    let like = rng.random::<f64>();
                    let like_status = if like < if completed { 0.30 } else { 0.06 } {
                        "liked"
                    } else if like > if completed { 0.97 } else { 0.90 } {
                        "disliked"
                    } else {
                        "none"
                    };
                    RowWriter::new(out)
                        .int(id as i64)
                        .int(title_index as i64 + 1)
                        .timestamp(started_at)
                        .int(minutes)
                        .boolean(completed)
                        .text(like_status)
                        .end();
                    rows += 1;
                }
                month_start = month_end;
            }
        }
        rows
    }

    /// Product events of the two programmes, after each customer's exposure.
    pub fn event_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let mut rng = self.rng(Stream::Events, id);
        let until = life
            .subscriptions
            .last()
            .and_then(|s| s.ended_at)
            .unwrap_or(self.end)
            .min(self.end);
        let mut rows = 0;
        // (customer, occurred_at, name) is a natural key: a clash moves the event a second on.
        let mut taken = std::collections::HashSet::new();
        let mut event = |out: &mut Vec<u8>, name: &'static str, mut at: i64, properties: &str| {
            while !taken.insert((at, name)) {
                at += 1;
            }
            RowWriter::new(out)
                .int(id as i64)
                .text(name)
                .timestamp(at)
                .text(properties)
                .end();
            rows += 1;
        };
        if let Some(from) = life.stream_with_friends_at {
            let mut month = from;
            while month < until {
                let month_end = (month + MONTH).min(until);
                for _ in 0..poisson(&mut rng, 0.6 * life.engagement) {
                    let at = rng.random_range(month..month_end);
                    event(out, "invite_sent", at, "{}");
                    if rng.random::<f64>() < 0.5 {
                        event(out, "invite_accepted", at + rng.random_range(60..DAY), "{}");
                    }
                }
                for _ in 0..poisson(&mut rng, 0.8 * life.engagement) {
                    let at = rng.random_range(month..month_end);
                    let minutes = rng.random_range(20..150);
                    let properties = format!("{{\"party_size\": {}}}", rng.random_range(2..6));
                    event(out, "co_watch_start", at, &properties);
                    if rng.random::<f64>() < 0.4 {
                        event(
                            out,
                            "chat_opened",
                            at + 60 * rng.random_range(1..minutes),
                            "{}",
                        );
                    }
                    event(
                        out,
                        "co_watch_end",
                        at + 60 * minutes,
                        &format!("{{\"minutes\": {minutes}}}"),
                    );
                }
                month = month_end;
            }
        }
        if let Some(from) = life.perks_at {
            let mut month = from;
            while month < until {
                let month_end = (month + MONTH).min(until);
                if rng.random::<f64>() < self.scenario.subscriber_perks.redemption_rate {
                    let perk = PERKS[rng.random_range(0..PERKS.len())];
                    event(
                        out,
                        "perk_redeemed",
                        rng.random_range(month..month_end),
                        &format!("{{\"perk\": \"{perk}\"}}"),
                    );
                }
                month = month_end;
            }
        }
        rows
    }

    pub fn exposure_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let region = GEOGRAPHY[life.region_index].1;
        let mut rows = 0;
        for (feature, at) in [
            ("stream_with_friends", life.stream_with_friends_at),
            ("subscriber_perks", life.perks_at),
        ] {
            if let Some(at) = at {
                RowWriter::new(out)
                    .int(id as i64)
                    .text(feature)
                    .text("treatment")
                    .text(region)
                    .timestamp(at)
                    .end();
                rows += 1;
            }
        }
        rows
    }

    /// A first paid month is a `subscribe`, a move to a dearer plan an `upgrade`; an e-mail
    /// offer taken up is an `upgrade` tied to its experiment and message.
    pub fn conversion_rows(&self, id: u64, out: &mut Vec<u8>) -> u64 {
        let life = self.life(id);
        let mut rows = 0;
        // (customer, occurred_at, kind) is a natural key: a clash moves a conversion a second on.
        let mut taken = std::collections::HashSet::new();
        let mut previous: Option<&SimulatedSubscription> = None;
        for subscription in &life.subscriptions {
            let kind = match previous {
                _ if subscription.trial => None,
                None => Some("subscribe"),
                Some(before) if before.trial => Some("subscribe"),
                Some(before) if subscription.plan.1 > before.plan.1 => Some("upgrade"),
                Some(_) => None,
            };
            if let Some(kind) = kind {
                let mut at = subscription.started_at;
                while !taken.insert((at, kind)) {
                    at += 1;
                }
                RowWriter::new(out)
                    .int(id as i64)
                    .text(kind)
                    .int(subscription.plan.1)
                    .timestamp(at)
                    .null()
                    .null()
                    .text("generator")
                    .timestamp(at)
                    .end();
                rows += 1;
            }
            previous = Some(subscription);
        }
        for receipt in self.receipts(id, &life) {
            if let Some((mut at, revenue)) = receipt.conversion {
                while !taken.insert((at, "upgrade")) {
                    at += 1;
                }
                RowWriter::new(out)
                    .int(id as i64)
                    .text("upgrade")
                    .int(revenue)
                    .timestamp(at)
                    .int(receipt.experiment as i64 + 1)
                    .text(&receipt.message_id.to_string())
                    .text("beacon")
                    .timestamp(at)
                    .end();
                rows += 1;
            }
        }
        rows
    }
}

fn genre_weights() -> Vec<(usize, f64)> {
    GENRES
        .iter()
        .enumerate()
        .map(|(index, genre)| (index, genre.1))
        .collect()
}
