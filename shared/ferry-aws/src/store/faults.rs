//! Faults a local run injects: `FAULT#<app>/<env>/<action>`, with `error` the name to fail
//! with. An item with `remaining` (a number) fires that many times only: each firing takes
//! one off in a conditional update, so a fault can be transient (fail once, then let the
//! state machine's retry succeed).

use super::*;

#[async_trait]
impl Faults for DynamoStore {
    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError> {
        let Some(item) = self.get(fault_pk(key), FAULT_SK).await? else {
            return Ok(None);
        };
        let Some(error) = item.get("error").and_then(|v| v.as_s().ok()).cloned() else {
            return Ok(None);
        };
        if !item.contains_key("remaining") {
            return Ok(Some(error));
        }
        // Spent by whoever takes the last one: a concurrent reader that loses gets none.
        let spent = conditional_call!(
            self.client
                .update_item()
                .table_name(&self.table)
                .key("PK", s(fault_pk(key)))
                .key("SK", s(FAULT_SK))
                .update_expression("SET remaining = remaining - :one")
                .condition_expression("remaining > :zero")
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .send(),
            StoreError::NotFound(format!("fault {key} is spent"))
        );
        match spent {
            Ok(_) => Ok(Some(error)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}
