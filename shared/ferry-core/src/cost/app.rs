//! An app's cost: each environment's latest cost report (written weekly by the
//! cost-analyzer) and the app's total. An environment not yet priced is listed as such.

use crate::model::ReportKind;
use crate::names::{AppName, EnvName};
use crate::ports::{Environments, Reports, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppCost {
    pub app: AppName,
    pub monthly_usd: f64,
    pub environments: Vec<EnvironmentCost>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnvironmentCost {
    pub env: EnvName,
    /// When the cost-analyzer last priced it; `None`: not yet.
    pub priced_at: Option<DateTime<Utc>>,
    pub monthly_usd: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_usd_month: Option<f64>,
    /// The report as written: the estimate with its components and advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<Value>,
}

/// The part of a cost report the total needs.
#[derive(Deserialize)]
struct Priced {
    monthly_usd: f64,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AppCostError {
    #[error("app {0} was not found")]
    NotFound(AppName),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub async fn app_cost(
    store: &(impl Environments + Reports + ?Sized),
    app: &AppName,
) -> Result<AppCost, AppCostError> {
    if store.get_app(app).await?.is_none() {
        return Err(AppCostError::NotFound(app.clone()));
    }
    let mut environments = Vec::new();
    let mut total = 0.0;
    for env in store.list_environments(Some(app)).await? {
        let report = store
            .latest_report(app, &env.name, ReportKind::Cost)
            .await?;
        let priced = report.as_ref().map(|r| {
            serde_json::from_value::<Priced>(r.body.clone())
                .map_err(|e| StoreError::Corrupt(format!("cost report of {app}/{}: {e}", env.name)))
        });
        let monthly_usd = priced.transpose()?.map(|p| p.monthly_usd);
        total += monthly_usd.unwrap_or(0.0);
        environments.push(EnvironmentCost {
            env: env.name.clone(),
            priced_at: report.as_ref().map(|r| r.created_at),
            monthly_usd,
            budget_usd_month: report.as_ref().and(env.spec.budget_usd_month),
            estimate: report.map(|r| r.body),
        });
    }
    Ok(AppCost {
        app: app.clone(),
        monthly_usd: super::round_cents(total),
        environments,
    })
}
