//! What a change does to the monthly bill: two estimates compared resource by resource
//! (two environments, or the deployed template and a new one).

use super::{round_cents, CostEstimate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceDelta {
    pub logical_id: String,
    pub resource_type: String,
    pub before_usd: f64,
    pub after_usd: f64,
    pub delta_usd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostDiff {
    pub before_label: String,
    pub after_label: String,
    pub before_usd: f64,
    pub after_usd: f64,
    pub delta_usd: f64,
    /// Resources whose monthly cost differs, largest change first.
    pub changes: Vec<ResourceDelta>,
}

impl CostDiff {
    /// "this change adds $12.34/month" (or saves, or leaves the cost unchanged).
    pub fn summary(&self) -> String {
        let amount = self.delta_usd.abs();
        if amount < 0.005 {
            "this change leaves the monthly cost unchanged".into()
        } else if self.delta_usd > 0.0 {
            format!("this change adds ${amount:.2}/month")
        } else {
            format!("this change saves ${amount:.2}/month")
        }
    }
}

pub fn diff(
    before: &CostEstimate,
    before_label: &str,
    after: &CostEstimate,
    after_label: &str,
) -> CostDiff {
    let ids: BTreeSet<&str> = before
        .resources
        .iter()
        .chain(&after.resources)
        .map(|r| r.logical_id.as_str())
        .collect();
    let mut changes: Vec<ResourceDelta> = ids
        .into_iter()
        .filter_map(|id| {
            let (old, new) = (before.resource(id), after.resource(id));
            let before_usd = old.map_or(0.0, |r| r.monthly_usd);
            let after_usd = new.map_or(0.0, |r| r.monthly_usd);
            let delta = round_cents(after_usd - before_usd);
            (delta != 0.0).then(|| ResourceDelta {
                logical_id: id.to_owned(),
                resource_type: new
                    .or(old)
                    .map(|r| r.resource_type.clone())
                    .unwrap_or_default(),
                before_usd,
                after_usd,
                delta_usd: delta,
            })
        })
        .collect();
    changes.sort_by(|a, b| {
        b.delta_usd
            .abs()
            .total_cmp(&a.delta_usd.abs())
            .then(a.logical_id.cmp(&b.logical_id))
    });
    CostDiff {
        before_label: before_label.to_owned(),
        after_label: after_label.to_owned(),
        before_usd: before.monthly_usd,
        after_usd: after.monthly_usd,
        delta_usd: round_cents(after.monthly_usd - before.monthly_usd),
        changes,
    }
}
