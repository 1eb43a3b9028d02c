//! Engine state documents: `STATE#<key>` / `#STATE`, the JSON text as one string (compact,
//! and read back whole) and its version, written only over the version it was read at.

use super::keys;
use super::*;

#[async_trait]
impl Documents for DynamoStore {
    async fn load_document(&self, key: &str) -> Result<Option<(String, u64)>, StoreError> {
        let Some(item) = self.get(keys::state_pk(key), keys::STATE_SK).await? else {
            return Ok(None);
        };
        let body = item
            .get("body")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Corrupt(format!("state {key}: no body")))?;
        let version = item
            .get("version")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok(Some((body, version)))
    }

    async fn save_document(&self, key: &str, json: &str, expected: u64) -> Result<u64, StoreError> {
        let version = expected + 1;
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("PK", s(keys::state_pk(key)))
            .item("SK", s(keys::STATE_SK))
            .item("body", s(json))
            .item("version", AttributeValue::N(version.to_string()));
        let request = match expected {
            0 => request.condition_expression("attribute_not_exists(PK)"),
            expected => request
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", AttributeValue::N(expected.to_string())),
        };
        conditional_call!(
            request.send(),
            StoreError::VersionConflict {
                what: format!("state {key}"),
                expected,
            }
        )?;
        Ok(version)
    }
}
