//! An experiment's audience filter: customers whose attributes are among the listed values
//! (every listed attribute must match; an absent one does not filter).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums::{AcquisitionChannel, AgeBand, Device};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"country": ["US", "CA"], "age_band": ["18-24", "25-34"], "device": ["mobile"]}))]
pub struct AudienceFilter {
    pub country: Option<Vec<String>>,
    pub region: Option<Vec<String>>,
    pub city: Option<Vec<String>>,
    pub age_band: Option<Vec<AgeBand>>,
    pub device: Option<Vec<Device>>,
    pub acquisition_channel: Option<Vec<AcquisitionChannel>>,
    pub signed_up_after: Option<DateTime<Utc>>,
    pub signed_up_before: Option<DateTime<Utc>>,
}
