use aws_lambda_events::eventbridge::EventBridgeEvent;
use ferry_core::cost::report::{self, FerrySchedules, Rightsizing};
use ferry_core::cost::Catalog;
use ferry_core::ports::{Alerts, EngineState, Environments, Promotions, Reports};
use ferry_lambda::FunctionError;
use serde_json::{json, Value};

/// Ferry's own template and its deployed schedules, for Ferry's own bill.
pub struct Ferry<'a> {
    pub template: &'a Value,
    pub schedules: FerrySchedules,
}

/// Prices every environment, and Ferry itself beside them; returns the summary with one
/// EMF document per environment (`EstimatedMonthlyCost{app,env}` in namespace `Ferry`)
/// and one for Ferry (`FerryMonthlyCost`); `main` prints them.
pub async fn handle(
    store: &(impl Environments + Promotions + Reports + Alerts + EngineState + ?Sized),
    catalog: &Catalog,
    rightsizing: Option<Rightsizing<'_>>,
    ferry: &Ferry<'_>,
    payload: Value,
) -> Result<Value, FunctionError> {
    let event: EventBridgeEvent =
        serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    ferry_lambda::expect_schedule(&event)?;
    let now = event.time.unwrap_or_else(chrono::Utc::now);
    let figures = report::cost_reports(store, catalog, rightsizing, now).await?;
    let own = report::ferry_cost(store, catalog, ferry.template, &ferry.schedules, now).await?;
    let mut metrics: Vec<Value> = figures
        .iter()
        .map(|f| {
            let dimensions = [("app", f.app.as_str()), ("env", f.env.as_str())];
            ferry_lambda::emf(
                "Ferry",
                "EstimatedMonthlyCost",
                "None",
                f.monthly_usd,
                &dimensions,
                now,
            )
        })
        .collect();
    metrics.push(ferry_lambda::emf(
        "Ferry",
        "FerryMonthlyCost",
        "None",
        own.monthly_usd,
        &[("component", "ferry")],
        now,
    ));
    let over_budget = figures.iter().filter(|f| f.over_budget).count();
    tracing::info!(
        environments = figures.len(),
        over_budget,
        ferry_monthly_usd = own.monthly_usd,
        "cost reports written"
    );
    Ok(
        json!({"environments": figures, "over_budget": over_budget, "ferry": own, "metrics": metrics}),
    )
}
