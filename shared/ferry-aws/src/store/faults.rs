//! Faults a local run injects: `FAULT#<app>/<env>/<action>`.

use super::*;

#[async_trait]
impl Faults for DynamoStore {
    async fn injected_fault(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(fault_pk(key), FAULT_SK)
            .await?
            .and_then(|item| item.get("error").and_then(|v| v.as_s().ok()).cloned()))
    }
}
