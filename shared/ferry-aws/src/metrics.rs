//! The [`Metrics`] port on CloudWatch: `GetMetricData` for series, `DescribeAlarms` for
//! what is firing.

use crate::{describe, is_transient};
use async_trait::async_trait;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StateValue,
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

#[async_trait]
impl Metrics for CloudWatchMetrics {
    async fn series(
        &self,
        query: &MetricQuery,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>, MetricsError> {
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
        let data_query = MetricDataQuery::builder()
            .id("m")
            .metric_stat(
                MetricStat::builder()
                    .metric(metric)
                    .period(query.period_seconds as i32)
                    .stat(&query.stat)
                    .build(),
            )
            .return_data(true)
            .build();
        let mut series = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_metric_data()
                .metric_data_queries(data_query.clone())
                .start_time(aws_time(start))
                .end_time(aws_time(end))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(next_token.take())
                .send()
                .await
                .map_err(metrics_error)?;
            for result in output.metric_data_results() {
                for (at, value) in result.timestamps().iter().zip(result.values()) {
                    let at = Utc
                        .timestamp_millis_opt(at.to_millis().unwrap_or_default())
                        .single()
                        .unwrap_or(start);
                    series.push((at, *value));
                }
            }
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => break,
            }
        }
        series.sort_by_key(|(at, _)| *at);
        Ok(series)
    }

    async fn alarms_firing(&self, prefix: &str) -> Result<Vec<String>, MetricsError> {
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
            names.extend(
                output
                    .metric_alarms()
                    .iter()
                    .filter_map(|a| a.alarm_name().map(str::to_owned)),
            );
            names.extend(
                output
                    .composite_alarms()
                    .iter()
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
