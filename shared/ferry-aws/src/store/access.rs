//! The access policy: one item.

use super::*;

#[async_trait]
impl AccessPolicies for DynamoStore {
    /// `PK = CONFIG`, `SK = ACCESS`: the access policy, one item.
    async fn access_policy(&self) -> Result<ferry_core::access::AccessPolicy, StoreError> {
        match self.get(CONFIG_PK.to_owned(), ACCESS_SK).await? {
            Some(item) => from_item(item),
            None => Ok(Default::default()),
        }
    }

    async fn put_access_policy(
        &self,
        policy: &ferry_core::access::AccessPolicy,
    ) -> Result<(), StoreError> {
        let item = to_item(
            policy,
            &[("PK", CONFIG_PK.to_owned()), ("SK", ACCESS_SK.to_owned())],
        )?;
        sdk_call!(self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send())?;
        Ok(())
    }
}
