//! Domain enums. In PostgreSQL each is a `text` column with a CHECK constraint listing the
//! same values (a test keeps the two in step); in JSON each is its lower-case text.

use std::fmt;

/// A text value that names no variant of the enum it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'")]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "db", derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow))]
        #[cfg_attr(feature = "db", diesel(sql_type = diesel::sql_types::Text))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        // Written out rather than derived: utoipa's derive does not see a `serde(rename)`
        // whose value comes from a macro argument, and would document the Rust names.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                match value {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant { kind: stringify!($name), value: value.to_owned() }),
                }
            }
        }

        #[cfg(feature = "db")]
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    &mut out.reborrow(),
                )
            }
        }

        #[cfg(feature = "db")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $name {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let text = <String as diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg>>::from_sql(bytes)?;
                Ok(text.parse()?)
            }
        }
    };
}

text_enum! {
    /// Which kind of long-running work a job row describes.
    JobKind {
        Generate => "generate",
        Import => "import",
        Export => "export",
        Segmentation => "segmentation",
        Analysis => "analysis",
        Send => "send",
        Report => "report",
    }
}

text_enum! {
    JobStatus {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

text_enum! {
    AgeBand {
        From18To24 => "18-24",
        From25To34 => "25-34",
        From35To44 => "35-44",
        From45To54 => "45-54",
        From55To64 => "55-64",
        From65 => "65+",
    }
}

text_enum! {
    Device {
        Tv => "tv",
        Mobile => "mobile",
        Tablet => "tablet",
        Desktop => "desktop",
        Console => "console",
        Other => "other",
    }
}

text_enum! {
    AcquisitionChannel {
        Organic => "organic",
        PaidSearch => "paid_search",
        PaidSocial => "paid_social",
        Referral => "referral",
        Partner => "partner",
        Email => "email",
        Other => "other",
    }
}

text_enum! {
    SubscriptionStatus {
        /// A free trial.
        Trial => "trial",
        /// Paying.
        Active => "active",
        /// Ended by an upgrade or downgrade; the next subscription carries on.
        Switched => "switched",
        /// The customer left.
        Churned => "churned",
    }
}

text_enum! {
    LikeStatus {
        Liked => "liked",
        Disliked => "disliked",
        None => "none",
    }
}

text_enum! {
    ConversionKind {
        Subscribe => "subscribe",
        Upgrade => "upgrade",
        Reactivate => "reactivate",
        Purchase => "purchase",
        Other => "other",
    }
}

text_enum! {
    ConversionSource {
        Api => "api",
        Beacon => "beacon",
        Import => "import",
        Generator => "generator",
    }
}

text_enum! {
    SegmentationScheme {
        /// The original system's fixed thresholds.
        Classic => "classic",
        /// Scores by quintiles of the current data.
        Quantile => "quantile",
    }
}

text_enum! {
    SegmentationRunStatus {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        /// Succeeded, but older than the runs whose memberships are kept (`DS_KEEP_RUNS`).
        Archived => "archived",
    }
}

text_enum! {
    TemplateKind {
        PlanOffer => "plan_offer",
        TitleRecommendation => "title_recommendation",
        GenreRecommendation => "genre_recommendation",
        Custom => "custom",
    }
}

text_enum! {
    /// The lifecycle: draft -> running <-> paused -> stopped -> decided.
    ExperimentStatus {
        Draft => "draft",
        Running => "running",
        Paused => "paused",
        Stopped => "stopped",
        Decided => "decided",
    }
}

text_enum! {
    ExperimentPhase {
        /// Sending to the test fraction only.
        Test => "test",
        /// Sending the winner to the rest of the audience.
        Winner => "winner",
        /// No test fraction: the whole audience at once.
        Full => "full",
    }
}

text_enum! {
    /// What a test-then-winner experiment sends the rest when the test finds no winner.
    NoWinnerAction {
        /// The control's e-mail.
        Control => "control",
        /// No e-mail.
        Nothing => "nothing",
    }
}

text_enum! {
    Metric {
        Open => "open",
        Click => "click",
        Conversion => "conversion",
        Revenue => "revenue",
    }
}

text_enum! {
    MessageStatus {
        Queued => "queued",
        Sending => "sending",
        Sent => "sent",
        Failed => "failed",
        Cancelled => "cancelled",
    }
}

text_enum! {
    MessageEventKind {
        Delivered => "delivered",
        Open => "open",
        Click => "click",
        Unsubscribe => "unsubscribe",
        Bounce => "bounce",
        Complaint => "complaint",
    }
}

text_enum! {
    SuppressionReason {
        Unsubscribe => "unsubscribe",
        HardBounce => "hard_bounce",
        Complaint => "complaint",
        Manual => "manual",
    }
}

text_enum! {
    EffectScale {
        Absolute => "absolute",
        /// A fraction of the baseline.
        Relative => "relative",
    }
}

text_enum! {
    /// What an API key may do: `read` reads, `admin` reads and writes.
    ApiKeyScope {
        Read => "read",
        Admin => "admin",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips_for_every_value() {
        for status in ExperimentStatus::ALL {
            assert_eq!(status.as_str().parse::<ExperimentStatus>(), Ok(*status));
        }
        assert_eq!("65+".parse::<AgeBand>(), Ok(AgeBand::From65));
    }

    #[test]
    fn unknown_text_names_the_enum_and_value() {
        let error = "archived".parse::<ExperimentStatus>().unwrap_err();
        assert_eq!(error.to_string(), "unknown ExperimentStatus 'archived'");
    }

    #[test]
    fn json_uses_the_database_text() {
        assert_eq!(
            serde_json::to_string(&AgeBand::From18To24).unwrap(),
            "\"18-24\""
        );
        assert_eq!(
            serde_json::from_str::<Device>("\"tv\"").unwrap(),
            Device::Tv
        );
    }
}
