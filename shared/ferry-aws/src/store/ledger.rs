//! The notification ledger: `NOTIFY#<dedup key>` with one `CHANNEL#<name>` item each.

use super::*;

#[async_trait]
impl DeliveryLedger for DynamoStore {
    async fn begin_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<ferry_core::model::Delivery, StoreError> {
        let delivery = ferry_core::model::Delivery {
            dedup_key: dedup_key.to_owned(),
            channel: channel.to_owned(),
            sent: false,
            attempts: 0,
            created_at: at,
            sent_at: None,
        };
        let (pk, sk) = (notify_pk(dedup_key), channel_sk(channel));
        let item = to_item(&delivery, &[("PK", pk.clone()), ("SK", sk.clone())])?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(PK)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(delivery),
            // Recorded before: return what it says.
            Err(e) if condition_failed(&e) => {
                let item = self.get(pk, &sk).await?.ok_or_else(|| {
                    StoreError::NotFound(format!("delivery {dedup_key} on {channel}"))
                })?;
                from_item(item)
            }
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn finish_delivery(
        &self,
        dedup_key: &str,
        channel: &str,
        attempts: u32,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        sdk_call!(self
            .client
            .update_item()
            .table_name(&self.table)
            .key("PK", AttributeValue::S(notify_pk(dedup_key)))
            .key("SK", AttributeValue::S(channel_sk(channel)))
            .update_expression("SET sent = :sent, sent_at = :at ADD attempts :attempts")
            .expression_attribute_values(":sent", AttributeValue::Bool(true))
            .expression_attribute_values(":at", AttributeValue::S(at.to_rfc3339()))
            .expression_attribute_values(":attempts", AttributeValue::N(attempts.to_string()))
            .send())?;
        Ok(())
    }
}
