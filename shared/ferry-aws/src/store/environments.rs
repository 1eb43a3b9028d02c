//! Apps and environments: `APP#<app>` with `#APP` and `ENV#<env>` items, each environment
//! on the `ENVS` index, and the claim of its stack (`STACK#<stack>`).

use super::*;

#[async_trait]
impl Environments for DynamoStore {
    async fn create_app(&self, app: &App) -> Result<(), StoreError> {
        let item = to_item(app, &[("PK", app_pk(&app.name)), ("SK", APP_SK.to_owned())])?;
        conditional_call!(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(PK)")
                .send(),
            StoreError::AlreadyExists(format!("app {}", app.name))
        )?;
        Ok(())
    }

    async fn get_app(&self, name: &AppName) -> Result<Option<App>, StoreError> {
        self.get(app_pk(name), APP_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    async fn put_environment(
        &self,
        environment: &Environment,
        expected_version: Option<u64>,
    ) -> Result<Environment, StoreError> {
        let mut stored = environment.clone();
        stored.version = expected_version.map_or(1, |v| v + 1);
        let label = format!("environment {}/{}", environment.app, environment.name);
        let build = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Backend(e.to_string());
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(env_item(&stored)?));
        let (put, on_fail) = match expected_version {
            None => (
                put.condition_expression("attribute_not_exists(PK)"),
                StoreError::AlreadyExists(label),
            ),
            Some(expected) => (
                put.condition_expression("#v = :expected")
                    .expression_attribute_names("#v", "version")
                    .expression_attribute_values(
                        ":expected",
                        AttributeValue::N(expected.to_string()),
                    ),
                StoreError::VersionConflict {
                    what: label,
                    expected,
                },
            ),
        };
        let owner = format!("{}/{}", environment.app, environment.name);
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(
                TransactWriteItem::builder()
                    .put(put.build().map_err(build)?)
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(
                        self.claim(&environment.stack_name, &owner)
                            .build()
                            .map_err(build)?,
                    )
                    .build(),
            );
        // A stack the environment moves away from is released in the same write.
        if expected_version.is_some() {
            if let Some(previous) = self
                .get_environment(&environment.app, &environment.name)
                .await?
                .filter(|p| p.stack_name != environment.stack_name)
            {
                let release = Delete::builder()
                    .table_name(&self.table)
                    .key("PK", s(stack_pk(&previous.stack_name)))
                    .key("SK", s(STACK_SK))
                    .condition_expression("attribute_not_exists(PK) OR #owner = :owner")
                    .expression_attribute_names("#owner", "owner")
                    .expression_attribute_values(":owner", s(owner.clone()))
                    .build()
                    .map_err(build)?;
                request =
                    request.transact_items(TransactWriteItem::builder().delete(release).build());
            }
        }
        match request.send().await {
            Ok(_) => Ok(stored),
            Err(e) if condition_failed(&e) => {
                // The claim (the second item) failing means another environment holds it.
                let claim_failed = e
                    .as_service_error()
                    .and_then(|err| match err {
                        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c) => {
                            c.cancellation_reasons().get(1).and_then(|r| r.code()).map(|code| code == "ConditionalCheckFailed")
                        }
                        _ => None,
                    })
                    .unwrap_or(false);
                if !claim_failed {
                    return Err(on_fail);
                }
                let holder = self
                    .get(stack_pk(&environment.stack_name), STACK_SK)
                    .await?
                    .and_then(|item| item.get("owner").and_then(|v| v.as_s().ok()).cloned())
                    .unwrap_or_else(|| "another environment".into());
                Err(StoreError::StackTaken {
                    stack: environment.stack_name.clone(),
                    owner: holder,
                })
            }
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn get_environment(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Option<Environment>, StoreError> {
        self.get(app_pk(app), &env_sk(env))
            .await?
            .map(from_item)
            .transpose()
    }

    async fn list_environments(
        &self,
        app: Option<&AppName>,
    ) -> Result<Vec<Environment>, StoreError> {
        let items = match app {
            Some(app) => {
                self.query_all(
                    None,
                    "PK = :pk AND begins_with(SK, :env)",
                    vec![(":pk", s(app_pk(app))), (":env", s(ENV_SK_PREFIX))],
                    false,
                    None,
                )
                .await?
            }
            None => {
                self.query_all(
                    Some(GSI1),
                    "GSI1PK = :pk",
                    vec![(":pk", s(ENVS_GSI_PK))],
                    false,
                    None,
                )
                .await?
            }
        };
        items.into_iter().map(from_item).collect()
    }
}
