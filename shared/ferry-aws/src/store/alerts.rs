//! Alerts: `ALARM#<name>` with each state change once (`EVENT#<id>`, expiring) and the
//! current state, open ones on the `OPEN#<app>#<env>` index.

use super::*;

#[async_trait]
impl Alerts for DynamoStore {
    async fn record_alert(&self, event: &AlertEvent) -> Result<bool, StoreError> {
        let previous: Option<AlertState> = self
            .get(alarm_pk(&event.alarm_name), ALARM_STATE_SK)
            .await?
            .map(from_item)
            .transpose()?;
        let next = ferry_core::monitoring::alerts::next_state(previous.as_ref(), event);
        let mut event_item = to_item(
            event,
            &[
                ("PK", alarm_pk(&event.alarm_name)),
                ("SK", event_sk(&event.event_id)),
            ],
        )?;
        event_item.insert(
            "expires_at".into(),
            expires_at(event.changed_at, ALERT_EVENT_TTL_DAYS),
        );
        let mut state_item = to_item(
            &next,
            &[
                ("PK", alarm_pk(&event.alarm_name)),
                ("SK", ALARM_STATE_SK.to_owned()),
            ],
        )?;
        // Sparse index of open alerts per environment: only alarms in ALARM carry GSI1 keys.
        if let (true, Some(app), Some(env)) = (next.state == "ALARM", &next.app, &next.env) {
            state_item.insert("GSI1PK".into(), s(open_gsi_pk(app, env)));
            state_item.insert("GSI1SK".into(), s(next.alarm_name.clone()));
        }
        let put_event = Put::builder()
            .table_name(&self.table)
            .set_item(Some(event_item))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        // The state item is written only if nobody else moved it since we read it.
        let mut put_state = Put::builder()
            .table_name(&self.table)
            .set_item(Some(state_item));
        put_state = match &previous {
            None => put_state.condition_expression("attribute_not_exists(PK)"),
            Some(p) => put_state
                .condition_expression("alarm_count = :count AND #state = :state")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":count", AttributeValue::N(p.alarm_count.to_string()))
                .expression_attribute_values(":state", s(p.state.clone())),
        };
        let put_state = put_state
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_event).build())
            .transact_items(TransactWriteItem::builder().put(put_state).build())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => {
                let seen = self
                    .get(alarm_pk(&event.alarm_name), &event_sk(&event.event_id))
                    .await?;
                if seen.is_some() {
                    Ok(false)
                } else {
                    // A concurrent change to the same alarm: the event source retries us.
                    Err(StoreError::Unavailable(format!(
                        "alarm {} changed concurrently",
                        event.alarm_name
                    )))
                }
            }
            Err(e) if retryable(&e) => Err(StoreError::Unavailable(describe(&e))),
            Err(e) => Err(StoreError::Backend(describe(&e))),
        }
    }

    async fn get_alert_state(&self, alarm_name: &str) -> Result<Option<AlertState>, StoreError> {
        self.get(alarm_pk(alarm_name), ALARM_STATE_SK)
            .await?
            .map(from_item)
            .transpose()
    }

    /// `PK = FAULT#<app>/<env>/<action>`, `SK = #FAULT`, `error = <name>`: written by
    /// local test runs only.
    /// The sparse GSI1 partition `OPEN#<app>#<env>`: only alarms in ALARM are in it.
    async fn open_alerts(
        &self,
        app: &AppName,
        env: &EnvName,
    ) -> Result<Vec<AlertState>, StoreError> {
        let items = self
            .query_all(
                Some(GSI1),
                "GSI1PK = :pk",
                vec![(":pk", s(open_gsi_pk(app, env)))],
                false,
                None,
            )
            .await?;
        items.into_iter().map(from_item).collect()
    }
}
