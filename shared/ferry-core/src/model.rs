//! The records Ferry keeps. Their storage layout (keys, GSIs, TTL) is the DynamoDB
//! adapter's business and is documented in docs/architecture.md.

use crate::names::{AppName, Colour, EnvName, ImageRef, PromotionId, Strategy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct App {
    pub name: AppName,
    pub created_at: DateTime<Utc>,
}

pub use crate::infra::spec::{CacheSpec, DatabaseSpec, EnvironmentSpec, ServiceSpec};

/// What an environment runs: an image pinned by digest, plus the config it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Release {
    pub image: ImageRef,
    #[serde(default)]
    pub config: serde_json::Map<String, Value>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    pub app: AppName,
    pub name: EnvName,
    pub spec: EnvironmentSpec,
    pub stack_name: String,
    pub deployed_release: Option<Release>,
    pub live_colour: Colour,
    /// The promotion holding this environment's lock, if any. Absent, not null, when
    /// free: the lock's condition expressions test `attribute_not_exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_promotion: Option<PromotionId>,
    /// Optimistic concurrency: every write states the version it read.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
    /// The spec the stack runs: that of the last promotion or change that finished here,
    /// with the version it was read at. A release deploys this one, so a spec saved
    /// since (`PUT`) waits for an infrastructure change (`ferry apply`) instead of riding
    /// along with the next image. `None` until the first promotion or change finishes;
    /// a release then deploys the saved spec.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_spec: Option<PinnedTarget>,
}

/// Every stack Ferry deploys starts with this: the roles in `infra/ferry.json` may change
/// only stacks whose names do.
pub const STACK_PREFIX: &str = "ferry-";

impl Environment {
    /// This environment with the spec its stack runs (`deployed_spec`) in place of the one
    /// saved since, if any: what drift checks and comparisons generate templates from.
    pub fn as_deployed(&self) -> Environment {
        let mut runs = self.clone();
        if let Some(deployed) = &self.deployed_spec {
            runs.spec = deployed.spec.clone();
        }
        runs
    }

    /// `ferry-<app>-<env>`. Two environments can map to the same name (`shop-eu`/`prod` and
    /// `shop`/`eu-prod`); the store refuses the second ([`crate::ports::StoreError::StackTaken`])
    /// rather than let two environments share one stack. A separator that cannot occur in
    /// names, such as `--`, would avoid the clash, but CloudFormation derives generated
    /// physical names from the stack name, and RDS refuses identifiers with two hyphens
    /// in a row.
    pub fn default_stack_name(app: &AppName, env: &EnvName) -> String {
        format!("{STACK_PREFIX}{app}-{env}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PromotionStatus {
    Pending,
    Running,
    AwaitingApproval,
    Succeeded,
    RolledBack,
    Rejected,
    Failed,
}

impl PromotionStatus {
    /// The statuses a promotion ends in.
    pub const ENDED: [PromotionStatus; 4] = [
        Self::Succeeded,
        Self::RolledBack,
        Self::Rejected,
        Self::Failed,
    ];

    pub fn is_terminal(self) -> bool {
        Self::ENDED.contains(&self)
    }
}

/// Who did something: the name Ferry shows and records, and the stable principal it
/// compares, so one person is one person however they signed in (see
/// [`crate::access::Identity`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Actor {
    pub name: String,
    pub principal: String,
}

/// Tests and local callers name someone once: the name is the principal.
impl From<&str> for Actor {
    fn from(name: &str) -> Self {
        Actor {
            name: name.to_owned(),
            principal: name.to_owned(),
        }
    }
}

impl From<String> for Actor {
    fn from(name: String) -> Self {
        Actor::from(name.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    pub id: PromotionId,
    pub app: AppName,
    pub source_env: EnvName,
    pub target_env: EnvName,
    pub strategy: Strategy,
    pub status: PromotionStatus,
    pub requested_by: String,
    /// The requester's stable principal, which approvers are compared with. Empty on
    /// promotions stored before it was kept: those compare by `requested_by`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub requested_by_principal: String,
    /// The release taken from the source environment when the promotion was created,
    /// so later deploys to the source do not change what this promotion ships.
    pub release: Option<Release>,
    /// The traffic steps, fixed when the promotion is created.
    #[serde(default)]
    pub plan: Vec<crate::promotion::rollout::TrafficStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_arn: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Filled on read from the step items; not stored on the promotion item itself.
    #[serde(default)]
    pub steps: Vec<StepRecord>,
    /// Filled on read from the approval items, oldest first.
    #[serde(default)]
    pub approvals: Vec<Approval>,
    /// The Step Functions task token of a pending approval. Never shown by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_token: Option<String>,
    /// The Step Functions task token of the watch window under way: an alarm of the
    /// environment fails it (`AlarmFired`) and the promotion rolls back at once, instead
    /// of at the window's end. Never shown by the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_token: Option<String>,
    /// How an administrator released the environment's lock by hand, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlocked: Option<Unlock>,
    /// The target's spec as it was when the promotion was created. Every template the
    /// promotion deploys comes from it, so a spec saved mid-promotion waits for the next
    /// one. `None` only on promotions stored before specs were pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<PinnedTarget>,
    /// The stateful resources (logical ids: `Database`, `Cache`, `AccessLogBucket`) the
    /// requester allows this promotion's change set to replace or delete; any other such
    /// replacement is refused at AssessRisk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_replace: Vec<String>,
    /// A release moved between environments, or an infrastructure change to one.
    #[serde(default, skip_serializing_if = "PromotionKind::is_release")]
    pub kind: PromotionKind,
    /// Why: required of a change, so its record says who, what and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What a run of the promotion pipeline deploys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionKind {
    /// The source's release onto the target, on the idle colour, then traffic shifted.
    #[default]
    Release,
    /// The target's own spec (its pinned version) onto its stack: the live colour and the
    /// deployed release stay as they are, the alarms are watched for the environment's
    /// watch window, and a failure puts the previous template back.
    Change,
}

impl PromotionKind {
    pub fn is_release(&self) -> bool {
        *self == PromotionKind::Release
    }
}

/// The target environment's spec, and the version of the environment it was read at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinnedTarget {
    pub spec_version: u64,
    pub spec: EnvironmentSpec,
}

/// The template GenerateTemplate rendered for a promotion: the exact text Deploy sends
/// to CloudFormation, and its SHA-256, so every later step can show it deployed that
/// template or one derived from it by traffic alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinnedTemplate {
    pub body: String,
    pub sha256: String,
    pub spec_version: u64,
}

impl PinnedTemplate {
    pub fn new(body: String, spec_version: u64) -> Self {
        Self {
            sha256: sha256_hex(&body),
            body,
            spec_version,
        }
    }
}

/// Which of a promotion's templates: the one it deploys, or (for an infrastructure
/// change) the stack's template before it, which a rollback puts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateRole {
    Deploy,
    Previous,
}

/// Lower-case hex SHA-256 of `text`, as the deploy steps record it.
pub fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

impl Promotion {
    /// The requester as approvals compare them.
    pub fn requester_principal(&self) -> &str {
        if self.requested_by_principal.is_empty() {
            &self.requested_by
        } else {
            &self.requested_by_principal
        }
    }
}

/// A lock released by hand (`POST /apps/{app}/environments/{env}/unlock`): the last
/// resort when no execution will release it. Kept on the promotion that held it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unlock {
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepOutcome {
    Succeeded,
    Failed,
}

/// One step of a promotion, as recorded by the code that ran it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub name: String,
    pub outcome: StepOutcome,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub detail: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    Approved,
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub promotion_id: PromotionId,
    pub decision: Decision,
    pub decided_by: String,
    /// The approver's stable principal: one person counts once, and never as the
    /// requester. Empty on decisions stored before it was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub principal: String,
    /// Which wait the decision answers (a promotion can wait twice: for its approval,
    /// then for a marginal canary's judgement); see [`crate::promotion::wait_id`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub wait: String,
    pub comment: String,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    Template,
    Cost,
    Drift,
}

impl ReportKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Template => "template",
            ReportKind::Cost => "cost",
            ReportKind::Drift => "drift",
        }
    }
}

/// A report a scheduled or pipeline job produced about one environment. Reports expire
/// (DynamoDB TTL) so the table does not grow forever; the newest is what users read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub app: AppName,
    pub env: EnvName,
    pub kind: ReportKind,
    pub created_at: DateTime<Utc>,
    pub body: Value,
}

/// One alarm state change, kept so noise reduction and incidents can work on history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The EventBridge event id: a redelivered event is recorded once.
    pub event_id: String,
    pub alarm_name: String,
    pub app: Option<AppName>,
    pub env: Option<EnvName>,
    pub state: String,
    pub previous_state: Option<String>,
    pub reason: String,
    pub metric: Option<String>,
    pub changed_at: DateTime<Utc>,
}

/// The current state of one alarm as Ferry last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertState {
    pub alarm_name: String,
    pub app: Option<AppName>,
    pub env: Option<EnvName>,
    pub state: String,
    pub since: DateTime<Utc>,
    /// How many times this alarm has gone into ALARM: the raw material of flap detection.
    pub alarm_count: u64,
}

/// Where one notification stands on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub dedup_key: String,
    pub channel: String,
    pub sent: bool,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(app: &str, env: &str) -> String {
        Environment::default_stack_name(
            &AppName::parse("app", app).unwrap(),
            &EnvName::parse("env", env).unwrap(),
        )
    }

    #[test]
    fn default_stack_names_fit_cloudformation_and_generated_rds_identifiers() {
        assert_eq!(stack("shop", "prod"), "ferry-shop-prod");
        let longest = stack(&"a".repeat(32), &"b".repeat(24));
        assert!(longest.len() <= 128, "{}", longest.len());
        // RDS identifiers CloudFormation generates start with the stack name, and may
        // not hold two hyphens in a row.
        assert!(!longest.contains("--") && !stack("a-b", "c-d").contains("--"));
    }
}
