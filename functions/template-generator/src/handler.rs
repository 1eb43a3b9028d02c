use ferry_core::cost::Catalog;
use ferry_core::jobs::{self, TemplateTask};
use ferry_core::ports::Store;
use ferry_lambda::FunctionError;
use serde_json::Value;

/// The task payload is `{app, env, promotion_id?}`, as the state machine sends it.
pub async fn handle(
    store: &dyn Store,
    catalog: &Catalog,
    payload: Value,
) -> Result<Value, FunctionError> {
    let task: TemplateTask = serde_json::from_value(payload).map_err(FunctionError::bad_event)?;
    let summary = jobs::generate_template(store, &task, Some(catalog), chrono::Utc::now())
        .await?
        .summary;
    tracing::info!(app = %task.app, env = %task.env, summary = %summary, "template generated");
    Ok(summary)
}
