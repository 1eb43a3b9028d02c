use ferry_core::cost::Catalog;
use ferry_core::infra::generate::{self, TemplateTask};
use ferry_core::ports::{Environments, Promotions, Reports};
use ferry_lambda::FunctionError;
use serde_json::Value;

/// The task payload is `{app, env, promotion_id?}`, as the state machine sends it.
pub async fn handle(
    store: &(impl Environments + Promotions + Reports + ?Sized),
    catalog: &Catalog,
    payload: Value,
) -> Result<Value, FunctionError> {
    let task: TemplateTask = serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    let summary = generate::generate_template(store, &task, Some(catalog), chrono::Utc::now())
        .await?
        .summary;
    tracing::info!(app = %task.app, env = %task.env, summary = %summary, "template generated");
    Ok(summary)
}
