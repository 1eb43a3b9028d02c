//! Analyse: alarms, the smoke check at weight 0, the canary judge at a split.

use super::*;

/// How long before the bake's start the alarm watch begins: the time the Shift step and
/// the state machine's transitions take, so a shift that set an alarm off is seen.
const SHIFT_ALLOWANCE: chrono::Duration = chrono::Duration::seconds(60);

impl Steps<'_> {
    /// After the bake: alarms first, then a smoke check (weight 0) or the canary judge
    /// (a split). At 100% there is no old-colour traffic to compare, so alarms decide.
    pub(super) async fn analyse(
        &self,
        promotion: &Promotion,
        index: usize,
        now: DateTime<Utc>,
    ) -> Result<Value, StepError> {
        let target = self.locked_target(promotion).await?;
        let step = Self::plan_step(promotion, index)?;
        let prefix = format!("ferry/{}/{}/", promotion.app, promotion.target_env);
        // The whole bake, and the shift before it: an alarm that fired and cleared while
        // the traffic moved or baked fails the step as surely as one firing now.
        let bake_began =
            now - chrono::Duration::seconds(step.bake_seconds as i64) - SHIFT_ALLOWANCE;
        let firing = self
            .metrics
            .alarms_in_alarm_since(&prefix, bake_began)
            .await?;
        if !firing.is_empty() {
            return Err(StepError::AlarmFired {
                message: format!("in ALARM during the bake: {}", firing.join(", ")),
                detail: json!({"alarms": firing}),
            });
        }
        let outputs = self
            .stacks
            .stack_details(&target.stack_name)
            .await
            .map_err(stack_error)?
            .map(|d| d.outputs)
            .unwrap_or_default();
        let analysis = Analysis {
            metrics: self.metrics,
            settings: &target.spec.promotion.analysis,
            outputs: &outputs,
            services: target
                .spec
                .services
                .iter()
                .map(|s| s.name.as_str())
                .collect(),
            old: target.live_colour,
            // A change is checked on the colour it changed in place: the live one.
            new: if Self::is_change(promotion) {
                target.live_colour
            } else {
                target.live_colour.other()
            },
        };
        let settings = &target.spec.promotion.analysis;
        let window = chrono::Duration::seconds(
            settings
                .window_seconds
                .unwrap_or(step.bake_seconds)
                .max(u64::from(settings.period_seconds)) as i64,
        );
        let last = index + 1 == promotion.plan.len();
        // After the last step, the state machine's watch window: this long.
        let mut detail = json!({"step": index, "weight": step.weight, "alarms": "none in ALARM",
                                "next_step": index + 1, "done": last, "marginal": false,
                                "watch_seconds": target.spec.watch_window_seconds()});
        match step.weight {
            0 => {
                let health = analysis.smoke(now - window, now).await?;
                detail["smoke"] = health;
            }
            100 => {
                detail["judge"] = json!("skipped: all traffic is on the new colour, no baseline");
            }
            _ => {
                let verdict = analysis.judge(now - window, now).await?;
                let summary = serde_json::to_value(&verdict).unwrap_or(Value::Null);
                match verdict.outcome {
                    crate::promotion::canary::Outcome::Fail => {
                        return Err(StepError::CanaryFailed {
                            message: format!("canary failed: {}", verdict.reason),
                            detail: summary,
                        })
                    }
                    crate::promotion::canary::Outcome::Marginal => detail["marginal"] = json!(true),
                    crate::promotion::canary::Outcome::Pass => {}
                }
                detail["judge"] = summary;
            }
        }
        Ok(detail)
    }
}

/// The comparison of the two colours' target groups over a window.
struct Analysis<'a> {
    metrics: &'a dyn Metrics,
    settings: &'a crate::promotion::rollout::AnalysisSettings,
    outputs: &'a std::collections::BTreeMap<String, String>,
    services: Vec<&'a str>,
    old: Colour,
    new: Colour,
}

impl Analysis<'_> {
    fn dimensions(
        &self,
        service: &str,
        colour: Colour,
    ) -> Result<Vec<(String, String)>, StepError> {
        let output = crate::infra::template::target_group_output(service, colour);
        let group = self.outputs.get(&output).ok_or_else(|| {
            StepError::ValidationFailed(format!(
                "the stack has no output {output}; redeploy it with this Ferry"
            ))
        })?;
        let mut dims = vec![("TargetGroup".to_owned(), group.clone())];
        if let Some(lb) = self.outputs.get("LoadBalancerFullName") {
            dims.push(("LoadBalancer".to_owned(), lb.clone()));
        }
        Ok(dims)
    }

    async fn values(
        &self,
        metric: &str,
        stat: &str,
        dimensions: &[(String, String)],
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<(DateTime<Utc>, f64)>, StepError> {
        let query = MetricQuery {
            namespace: "AWS/ApplicationELB".into(),
            metric: metric.into(),
            dimensions: dimensions.to_vec(),
            stat: stat.into(),
            period_seconds: self.settings.period_seconds,
        };
        Ok(self.metrics.series(&query, window.0, window.1).await?)
    }

    /// One sample per period; a rate divides by the denominator of the same period.
    async fn samples(
        &self,
        metric: &crate::promotion::rollout::AnalysisMetric,
        dimensions: &[(String, String)],
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<Vec<f64>, StepError> {
        let values = self
            .values(&metric.metric, &metric.stat, dimensions, window)
            .await?;
        let Some(per) = &metric.per else {
            return Ok(values.into_iter().map(|(_, v)| v).collect());
        };
        let totals: std::collections::BTreeMap<DateTime<Utc>, f64> = self
            .values(per, "Sum", dimensions, window)
            .await?
            .into_iter()
            .collect();
        let numerators: std::collections::BTreeMap<DateTime<Utc>, f64> =
            values.into_iter().collect();
        // A period with requests but no errors has a 0 rate, not a missing sample.
        Ok(totals
            .iter()
            .filter(|(_, total)| **total > 0.0)
            .map(|(at, total)| numerators.get(at).copied().unwrap_or(0.0) / total)
            .collect())
    }

    async fn judge(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<crate::promotion::canary::Verdict, StepError> {
        let config = self.settings.judge_config();
        let mut results = Vec::new();
        for service in &self.services {
            let control_dims = self.dimensions(service, self.old)?;
            let experiment_dims = self.dimensions(service, self.new)?;
            for metric in &self.settings.metrics {
                let control = self.samples(metric, &control_dims, (start, end)).await?;
                let experiment = self.samples(metric, &experiment_dims, (start, end)).await?;
                let mut judged = metric.judge_config();
                if self.services.len() > 1 {
                    judged.name = format!("{service}/{}", metric.name);
                }
                results.push(crate::promotion::canary::classify(
                    &judged,
                    &control,
                    &experiment,
                    &config,
                ));
            }
        }
        Ok(crate::promotion::canary::judge(results, &config))
    }

    /// The new colour's targets are registered and healthy in its own target group.
    async fn smoke(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Value, StepError> {
        let mut report = serde_json::Map::new();
        for service in &self.services {
            let dims = self.dimensions(service, self.new)?;
            let healthy = self
                .values("HealthyHostCount", "Minimum", &dims, (start, end))
                .await?;
            let unhealthy = self
                .values("UnHealthyHostCount", "Maximum", &dims, (start, end))
                .await?;
            let last_healthy = healthy.last().map(|(_, v)| *v);
            let last_unhealthy = unhealthy.last().map(|(_, v)| *v).unwrap_or(0.0);
            let entry = json!({"healthy_hosts": last_healthy, "unhealthy_hosts": last_unhealthy});
            report.insert((*service).to_owned(), entry.clone());
            let problem = match last_healthy {
                None => Some("no health data for its target group".to_owned()),
                Some(h) if h < 1.0 => Some("no healthy targets".to_owned()),
                _ if last_unhealthy > 0.0 => Some(format!("{last_unhealthy} unhealthy targets")),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(StepError::SmokeFailed {
                    message: format!("{service} on {}: {problem}", self.new),
                    detail: Value::Object(report),
                });
            }
        }
        Ok(Value::Object(report))
    }
}
