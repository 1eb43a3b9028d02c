//! Every key of the table, in one place. `PK`/`SK` name an item; `GSI1PK`/`GSI1SK` put it
//! on the one index, for the queries that go across partitions.

use ferry_core::names::{AppName, EnvName, PromotionId};

/// An app: `APP#<app>` / `#APP`; its environments are items of the same partition.
pub fn app_pk(app: &AppName) -> String {
    format!("APP#{app}")
}
pub const APP_SK: &str = "#APP";
/// An environment: `APP#<app>` / `ENV#<env>`.
pub fn env_sk(env: &EnvName) -> String {
    format!("ENV#{env}")
}
pub const ENV_SK_PREFIX: &str = "ENV#";
/// Every environment, on the index: `ENVS` / `<app>#<env>`.
pub const ENVS_GSI_PK: &str = "ENVS";
pub fn envs_gsi_sk(app: &AppName, env: &EnvName) -> String {
    format!("{app}#{env}")
}

/// A promotion: `PROMO#<id>` / `#PROMO`, its steps `STEP#<time>#<name>` and approvals
/// `APPROVAL#<time>` in the same partition.
pub fn promo_pk(id: &PromotionId) -> String {
    format!("PROMO#{id}")
}
pub const PROMO_SK: &str = "#PROMO";
pub fn step_sk(finished_at: &str, name: &str) -> String {
    format!("STEP#{finished_at}#{name}")
}
pub const STEP_SK_PREFIX: &str = "STEP#";
pub fn approval_sk(decided_at: &str) -> String {
    format!("APPROVAL#{decided_at}")
}
pub const APPROVAL_SK_PREFIX: &str = "APPROVAL#";
/// The template a promotion deploys: `PINNED#<id>` / `#TEMPLATE`, in a partition of its
/// own so that reading a promotion does not read its template too.
pub fn pinned_pk(id: &PromotionId) -> String {
    format!("PINNED#{id}")
}
pub fn pinned_sk(role: ferry_core::model::TemplateRole) -> &'static str {
    match role {
        ferry_core::model::TemplateRole::Deploy => "#TEMPLATE",
        ferry_core::model::TemplateRole::Previous => "#PREVIOUS",
    }
}
/// The promotions into one environment, on the index: `PROMOS#<app>#<env>` / created at.
pub fn promos_gsi_pk(app: &AppName, env: &EnvName) -> String {
    format!("PROMOS#{app}#{env}")
}

/// A report, under its app: `REPORT#<kind>#<env>#<time>`.
pub fn report_sk(kind: &str, env: &EnvName, created_at: &str) -> String {
    format!("{}{created_at}", report_sk_prefix(kind, env))
}
pub fn report_sk_prefix(kind: &str, env: &EnvName) -> String {
    format!("REPORT#{kind}#{env}#")
}

/// An alarm: `ALARM#<name>` with its current state (`#STATE`) and each change once
/// (`EVENT#<event id>`); alarms in ALARM on the index: `OPEN#<app>#<env>`.
pub fn alarm_pk(name: &str) -> String {
    format!("ALARM#{name}")
}
pub const ALARM_STATE_SK: &str = "#STATE";
pub fn event_sk(event_id: &str) -> String {
    format!("EVENT#{event_id}")
}
pub fn open_gsi_pk(app: &AppName, env: &EnvName) -> String {
    format!("OPEN#{app}#{env}")
}

/// A stack's claim: `STACK#<stack>` / `#STACK`, with the environment that owns it.
pub fn stack_pk(stack: &str) -> String {
    format!("STACK#{stack}")
}
pub const STACK_SK: &str = "#STACK";

/// An engine state document: `STATE#<key>` / `#STATE`.
pub fn state_pk(key: &str) -> String {
    format!("STATE#{key}")
}
pub const STATE_SK: &str = "#STATE";

/// One notification on one channel: `NOTIFY#<dedup key>` / `CHANNEL#<channel>`.
pub fn notify_pk(dedup_key: &str) -> String {
    format!("NOTIFY#{dedup_key}")
}
pub fn channel_sk(channel: &str) -> String {
    format!("CHANNEL#{channel}")
}

/// A fault a local run injects: `FAULT#<app>/<env>/<action>` / `#FAULT`.
pub fn fault_pk(key: &str) -> String {
    format!("FAULT#{key}")
}
pub const FAULT_SK: &str = "#FAULT";

/// The access policy: `CONFIG` / `ACCESS`.
pub const CONFIG_PK: &str = "CONFIG";
pub const ACCESS_SK: &str = "ACCESS";
