//! Reports: under the app, `REPORT#<kind>#<env>#<time>`, expiring after 90 days.

use super::*;

#[async_trait]
impl Reports for DynamoStore {
    async fn put_report(&self, report: &Report) -> Result<(), StoreError> {
        let mut item = to_item(
            report,
            &[
                ("PK", app_pk(&report.app)),
                (
                    "SK",
                    report_sk(report.kind.as_str(), &report.env, &ts(report.created_at)),
                ),
            ],
        )?;
        item.insert(
            "expires_at".into(),
            expires_at(report.created_at, REPORT_TTL_DAYS),
        );
        sdk_call!(self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send())?;
        Ok(())
    }

    async fn latest_report(
        &self,
        app: &AppName,
        env: &EnvName,
        kind: ReportKind,
    ) -> Result<Option<Report>, StoreError> {
        let items = self
            .query_all(
                None,
                "PK = :pk AND begins_with(SK, :prefix)",
                vec![
                    (":pk", s(app_pk(app))),
                    (":prefix", s(report_sk_prefix(kind.as_str(), env))),
                ],
                true,
                Some(1),
            )
            .await?;
        items.into_iter().next().map(from_item).transpose()
    }
}
