//! The [`Metrics`] port on CloudWatch: `GetMetricData` for series, `DescribeAlarms` for
//! what is firing.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    Dimension, HistoryItemType, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
};
use aws_sdk_cloudwatch::Client;
use aws_smithy_types::DateTime as AwsTime;
use chrono::{DateTime, TimeZone, Utc};
use ferry_core::ports::{MetricQuery, Metrics, MetricsError};

pub struct CloudWatchMetrics {
    client: Client,
}

impl CloudWatchMetrics {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(sdk))
    }
}

fn metrics_error<E, R>(
    error: aws_smithy_runtime_api::client::result::SdkError<E, R>,
) -> MetricsError
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if is_transient(&error) {
        MetricsError::Unavailable(describe(&error))
    } else {
        MetricsError::Refused(describe(&error))
    }
}

fn aws_time(at: DateTime<Utc>) -> AwsTime {
    AwsTime::from_millis(at.timestamp_millis())
}

/// GetMetricData takes at most 500 queries a call.
pub const QUERIES_PER_CALL: usize = 500;

fn data_query(id: String, query: &MetricQuery) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(&query.namespace)
        .metric_name(&query.metric)
        .set_dimensions(Some(
            query
                .dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(query.period_seconds as i32)
                .stat(&query.stat)
                .build(),
        )
        .return_data(true)
        .build()
}

#[async_trait]
impl Metrics for CloudWatchMetrics {
    async fn series(
        &self,
        query: &MetricQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, MetricsError> {
        let mut all = self
            .series_many(std::slice::from_ref(query), start, end)
            .await?;
        Ok(all.pop().unwrap_or_default())
    }

    /// ⌈n/500⌉ calls for n queries (more only when a call pages its data).
    async fn series_many(
        &self,
        queries: &[MetricQuery],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Vec<(DateTime<Utc>, f64)>>, MetricsError> {
        let mut results = vec![Vec::new(); queries.len()];
        for (batch, chunk) in queries.chunks(QUERIES_PER_CALL).enumerate() {
            let offset = batch * QUERIES_PER_CALL;
            let data_queries: Vec<MetricDataQuery> = chunk
                .iter()
                .enumerate()
                .map(|(i, q)| data_query(format!("m{}", offset + i), q))
                .collect();
            let mut next_token: Option<String> = None;
            loop {
                let output = self
                    .client
                    .get_metric_data()
                    .set_metric_data_queries(Some(data_queries.clone()))
                    .start_time(aws_time(start))
                    .end_time(aws_time(end))
                    .scan_by(ScanBy::TimestampAscending)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(metrics_error)?;
                for result in output.metric_data_results() {
                    let Some(index) = result
                        .id()
                        .and_then(|id| id.strip_prefix('m'))
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|i| *i < results.len())
                    else {
                        continue;
                    };
                    for (at, value) in result.timestamps().iter().zip(result.values()) {
                        let at = Utc
                            .timestamp_millis_opt(at.to_millis().unwrap_or_default())
                            .single()
                            .unwrap_or(start);
                        results[index].push((at, *value));
                    }
                }
                match output.next_token() {
                    Some(token) => next_token = Some(token.to_owned()),
                    None => break,
                }
            }
        }
        for series in &mut results {
            series.sort_by_key(|(at, _)| *at);
        }
        Ok(results)
    }

    async fn alarms_in_alarm_since(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, MetricsError> {
        let mut names = self.alarms_in_alarm_now(prefix).await?;
        names.extend(self.alarms_through_alarm_since(prefix, since).await?);
        names.sort();
        names.dedup();
        Ok(names)
    }
}

impl CloudWatchMetrics {
    /// `DescribeAlarmHistory` of state changes since `since`: the alarms under `prefix`
    /// that entered or left ALARM then. The call has no name-prefix filter, so the
    /// account's history for the window is read and filtered here.
    async fn alarms_through_alarm_since(
        &self,
        prefix: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, MetricsError> {
        let mut names = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .describe_alarm_history()
                .history_item_type(HistoryItemType::StateUpdate)
                .start_date(aws_time(since))
                .end_date(aws_time(Utc::now() + chrono::Duration::minutes(1)))
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(metrics_error)?;
            for item in output.alarm_history_items() {
                let Some(name) = item.alarm_name().filter(|n| n.starts_with(prefix)) else {
                    continue;
                };
                if touches_alarm(item.history_data().unwrap_or_default()) {
                    names.push(name.to_owned());
                }
            }
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => break,
            }
        }
        Ok(names)
    }

    async fn alarms_in_alarm_now(&self, prefix: &str) -> Result<Vec<String>, MetricsError> {
        let mut names = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .describe_alarms()
                .alarm_name_prefix(prefix)
                .state_value(StateValue::Alarm)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(metrics_error)?;
            // The state is checked here too: an implementation that applies only one of
            // the filters (moto ignores StateValue beside AlarmNamePrefix) must not turn
            // every alarm under the prefix into one in ALARM.
            let alarm = Some(&StateValue::Alarm);
            names.extend(
                output
                    .metric_alarms()
                    .iter()
                    .filter(|a| a.state_value() == alarm)
                    .filter_map(|a| a.alarm_name().map(str::to_owned)),
            );
            names.extend(
                output
                    .composite_alarms()
                    .iter()
                    .filter(|a| a.state_value() == alarm)
                    .filter_map(|a| a.alarm_name().map(str::to_owned)),
            );
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => break,
            }
        }
        names.sort();
        Ok(names)
    }
}

/// Whether a state update's `HistoryData` (JSON: `oldState` and `newState`, each with a
/// `stateValue`) went into or out of ALARM. Unreadable data counts as ALARM: a watch that
/// cannot read a change must not pass it.
fn touches_alarm(history_data: &str) -> bool {
    let Ok(data) = serde_json::from_str::<serde_json::Value>(history_data) else {
        return true;
    };
    ["oldState", "newState"]
        .iter()
        .any(|side| data[side]["stateValue"] == "ALARM")
}
