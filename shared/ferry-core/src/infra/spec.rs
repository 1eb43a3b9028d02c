//! The app spec: what a team writes (YAML or JSON), checked against the JSON Schema that
//! ships with Ferry, then resolved per environment (profile defaults, then overrides)
//! into the [`EnvironmentSpec`] that templates are generated from.

use crate::infra::profile::{Profile, ProfileName, LOG_RETENTION_DAYS};
use crate::names::AppName;
use crate::validation::{FieldError, ValidationErrors};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The JSON Schema of the spec file (`ferry schema` prints it).
pub const SCHEMA: &str = include_str!("../../schema/spec.schema.json");

/// One service as it runs in one environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    /// The container repository, used until the first release pins an image digest.
    #[serde(default = "default_image")]
    pub image: String,
    pub port: u16,
    /// Fargate CPU units (256 = 0.25 vCPU).
    pub cpu: u32,
    /// MiB.
    pub memory: u32,
    #[serde(default = "default_desired_count")]
    pub desired_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaling: Option<Autoscaling>,
    #[serde(default = "default_health_check_path")]
    pub health_check_path: String,
    /// ALB path pattern; the first service also gets every unmatched request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Name -> SSM parameter or Secrets Manager secret ARN.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, String>,
    /// The user the container runs as (`uid[:gid]`, or a name the image defines). Not
    /// root by default: code that breaks into the app should not own the container.
    #[serde(default = "default_user")]
    pub user: String,
    /// A read-only root filesystem, so code that breaks in cannot rewrite the app or
    /// drop tools beside it; the app writes to its `tmpfs` paths. `false` breaks the
    /// policy rule `containers_read_only_root`, which the environment must then waive.
    #[serde(default = "default_true")]
    pub read_only_root_filesystem: bool,
    /// Writable in-memory paths, path -> MiB, counted in the task's memory. tmpfs rather
    /// than a bind mount because Fargate makes bind mounts writable by root only.
    #[serde(default = "default_tmpfs")]
    pub tmpfs: BTreeMap<String, u32>,
}

fn default_user() -> String {
    "1000:1000".into()
}
/// /tmp is what most runtimes need (temporary files, uploads buffered to disk, the
/// JVM's perf data); 64 MiB fits the smallest Fargate task (512 MiB) with room to spare.
fn default_tmpfs() -> BTreeMap<String, u32> {
    BTreeMap::from([("/tmp".to_owned(), 64)])
}

fn default_image() -> String {
    "public.ecr.aws/docker/library/nginx:stable".into()
}
fn default_desired_count() -> u32 {
    1
}
fn default_health_check_path() -> String {
    "/".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Autoscaling {
    pub min: u32,
    pub max: u32,
    #[serde(default = "default_cpu_target")]
    pub cpu_target: f64,
}

fn default_cpu_target() -> f64 {
    60.0
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSpec {
    pub engine: String,
    #[serde(default = "default_db_version")]
    pub version: String,
    pub instance_class: String,
    pub storage_gb: u32,
    #[serde(default = "default_true")]
    pub encrypted: bool,
}

fn default_db_version() -> String {
    "17.6".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSpec {
    pub engine: String,
    #[serde(default = "default_cache_version")]
    pub version: String,
    pub node_type: String,
    #[serde(default = "default_true")]
    pub encrypted: bool,
}

fn default_cache_version() -> String {
    "8.0".into()
}
fn default_true() -> bool {
    true
}

/// A policy rule an environment opts out of, with the reason on record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    pub rule: String,
    pub reason: String,
}

/// The app's own policy, checked with Ferry's rules and the account's on the template of
/// every environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<crate::infra::policy::PolicyRules>,
}

impl AppPolicy {
    pub fn is_empty(&self) -> bool {
        self.rules.is_none()
    }
}

/// What one environment runs, fully resolved: templates are generated from this alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentSpec {
    pub profile_name: ProfileName,
    pub profile: Profile,
    pub services: Vec<ServiceSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<DatabaseSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSpec>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waivers: Vec<Waiver>,
    /// The app's policy rules (the spec's top-level `policy`, the same in every environment).
    #[serde(default, skip_serializing_if = "AppPolicy::is_empty")]
    pub policy: AppPolicy,
    /// How promotions into this environment move traffic and judge the new release.
    #[serde(default)]
    pub promotion: crate::promotion::rollout::PromotionSettings,
    /// The weekly cost report raises an alert when the estimate exceeds this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_usd_month: Option<f64>,
    /// Alert rules the spec adds to (or replaces among) the profile's defaults.
    #[serde(default, skip_serializing_if = "AlertsSpec::is_empty")]
    pub alerts: AlertsSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertsSpec {
    #[serde(default)]
    pub rules: Vec<crate::monitoring::rules::Rule>,
    /// Grouping, inhibition, mute intervals and flap settings; defaults when left out.
    #[serde(
        default,
        skip_serializing_if = "crate::monitoring::routing::RoutingSpec::is_empty"
    )]
    pub routing: crate::monitoring::routing::RoutingSpec,
}

impl AlertsSpec {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.routing.is_empty()
    }
}

impl EnvironmentSpec {
    /// Whether promotions into this environment wait for an approval: the spec's
    /// `promotion.approval`, else the profile's. Never the environment's name.
    pub fn approval_policy(&self) -> crate::promotion::rollout::ApprovalPolicy {
        self.promotion.approval.unwrap_or_else(|| {
            crate::promotion::rollout::ApprovalPolicy::for_profile(self.profile_name)
        })
    }

    /// How long after the last traffic step the old colour stays warm while the alarms
    /// are watched: the spec's `promotion.watch_window_seconds`, else 10 minutes.
    pub fn watch_window_seconds(&self) -> u64 {
        self.promotion
            .watch_window_seconds
            .unwrap_or(crate::promotion::DEFAULT_WATCH_WINDOW_SECONDS)
    }

    /// The rules that apply: the profile's defaults (its alarm thresholds), with any rule
    /// of the same name replaced by the spec's, and the spec's others added.
    pub fn alert_rules(&self) -> Vec<crate::monitoring::rules::Rule> {
        let mut rules = crate::monitoring::rules::profile_rules(&self.profile);
        for rule in &self.alerts.rules {
            match rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => *existing = rule.clone(),
                None => rules.push(rule.clone()),
            }
        }
        rules
    }
}

impl Default for EnvironmentSpec {
    fn default() -> Self {
        EnvironmentSpec {
            profile_name: ProfileName::Dev,
            profile: Profile::defaults(ProfileName::Dev),
            services: vec![],
            database: None,
            cache: None,
            waivers: vec![],
            policy: AppPolicy::default(),
            promotion: Default::default(),
            budget_usd_month: None,
            alerts: AlertsSpec::default(),
        }
    }
}

/// A spec file that passed the schema. Environments are resolved from it on demand.
#[derive(Debug, Clone, PartialEq)]
pub struct AppSpec {
    pub app: AppName,
    document: Value,
}

fn schema_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the bundled schema is JSON");
        jsonschema::validator_for(&schema).expect("the bundled schema is valid")
    })
}

/// `/services/1/cpu` -> `services[1].cpu`.
fn display_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if segment.chars().all(|c| c.is_ascii_digit()) && !segment.is_empty() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() {
        "spec".into()
    } else {
        out
    }
}

fn join(path: &str, key: &str) -> String {
    if path == "spec" {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Reads YAML or JSON (JSON is YAML, but its own parser gives better messages).
pub fn parse_document(text: &str) -> Result<Value, ValidationErrors> {
    let trimmed = text.trim_start();
    let parsed = if trimmed.starts_with('{') {
        serde_json::from_str::<Value>(text).map_err(|e| format!("not valid JSON: {e}"))
    } else {
        serde_saphyr::from_str::<Value>(text).map_err(|e| {
            format!(
                "not valid YAML: {}",
                e.to_string().lines().next().unwrap_or("")
            )
        })
    };
    parsed.map_err(|message| ValidationErrors::from(FieldError::new("spec", message)))
}

impl AppSpec {
    /// Parses and checks a spec: syntax, then the schema (every violation at once), then
    /// the rules a schema cannot say (Fargate sizes, secrets, overrides), for the base
    /// spec and for every environment it lists.
    pub fn parse(text: &str) -> Result<AppSpec, ValidationErrors> {
        let document = parse_document(text)?;
        Self::from_document(document)
    }

    pub fn from_document(document: Value) -> Result<AppSpec, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        for error in schema_validator().iter_errors(&document) {
            let path = display_path(error.instance_path().as_str());
            match error.kind() {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for key in unexpected {
                        errors.push(join(&path, key), "is not a known key (see `ferry schema`)");
                    }
                }
                _ => errors.push(path, error.to_string()),
            }
        }
        errors.into_result()?;
        let app = AppName::parse("app", document["app"].as_str().unwrap_or_default())
            .map_err(ValidationErrors::from)?;
        let spec = AppSpec { app, document };
        let mut errors = ValidationErrors::default();
        let mut seen = Vec::new();
        for env in spec.environment_names() {
            match spec.environment(&env) {
                Ok(_) => {}
                Err(env_errors) => {
                    for e in env_errors.0 {
                        if !seen.contains(&e) {
                            seen.push(e.clone());
                            errors.0.push(e);
                        }
                    }
                }
            }
        }
        errors.into_result()?;
        Ok(spec)
    }

    /// The environment `env` as Ferry creates it: resolved spec, default stack name, blue
    /// live, nothing deployed yet.
    pub fn new_environment(
        &self,
        env: &str,
    ) -> Result<crate::model::Environment, ValidationErrors> {
        let name = crate::names::EnvName::parse("env", env).map_err(ValidationErrors::from)?;
        Ok(crate::model::Environment {
            stack_name: crate::model::Environment::default_stack_name(&self.app, &name),
            app: self.app.clone(),
            spec: self.environment(env)?,
            name,
            deployed_release: None,
            live_colour: crate::names::Colour::Blue,
            active_promotion: None,
            version: 0,
            updated_at: chrono::Utc::now(),
            deployed_spec: None,
        })
    }

    /// dev, staging and prod, plus any other environment the spec lists.
    pub fn environment_names(&self) -> Vec<String> {
        let mut names: Vec<String> = ["dev", "staging", "prod"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for name in self.document["environments"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
        {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// The spec of one environment: profile defaults, the base spec, then its overrides.
    pub fn environment(&self, env: &str) -> Result<EnvironmentSpec, ValidationErrors> {
        let empty = Value::Object(Map::new());
        let overrides = self.document["environments"].get(env).unwrap_or(&empty);
        let at = format!("environments.{env}");
        let mut errors = ValidationErrors::default();
        let profile_name = match overrides.get("profile").and_then(Value::as_str) {
            Some(name) => ProfileName::for_env(name).expect("the schema allows only profile names"),
            None => match ProfileName::for_env(env) {
                Some(name) => name,
                None => {
                    errors.push(format!("{at}.profile"), format!("is required: '{env}' is not dev, staging or prod, so name the profile it starts from"));
                    return Err(errors);
                }
            },
        };
        let mut profile =
            serde_json::to_value(Profile::defaults(profile_name)).expect("profiles serialise");
        merge(&mut profile, overrides.get("settings").unwrap_or(&empty));

        let mut services = self.document["services"].clone();
        let service_overrides = overrides.get("services").and_then(Value::as_object);
        for (name, patch) in service_overrides.into_iter().flatten() {
            match services
                .as_array_mut()
                .and_then(|s| s.iter_mut().find(|s| s["name"] == *name))
            {
                Some(service) => merge(service, patch),
                None => errors.push(
                    format!("{at}.services.{name}"),
                    format!("there is no service named '{name}' to override"),
                ),
            }
        }
        let mut sections = Map::new();
        for section in ["database", "cache"] {
            let mut value = self.document.get(section).cloned();
            if let Some(patch) = overrides.get(section) {
                match &mut value {
                    Some(base) => merge(base, patch),
                    None => errors.push(
                        format!("{at}.{section}"),
                        format!("overrides a {section} the spec does not have"),
                    ),
                }
            }
            if let Some(value) = value {
                sections.insert(section.to_owned(), value);
            }
        }
        // Promotion settings need not be in the base spec: they default per field.
        let mut promotion = self
            .document
            .get("promotion")
            .cloned()
            .unwrap_or(json_empty());
        if let Some(patch) = overrides.get("promotion") {
            merge(&mut promotion, patch);
        }
        sections.insert("promotion".to_owned(), promotion);
        // Alert rules: the environment's list, if it has one, replaces the base list.
        if let Some(alerts) = overrides
            .get("alerts")
            .or_else(|| self.document.get("alerts"))
        {
            sections.insert("alerts".to_owned(), alerts.clone());
        }
        errors.clone().into_result()?;
        let mut resolved = json_object(&[
            (
                "profile_name",
                serde_json::to_value(profile_name).expect("serialises"),
            ),
            ("profile", profile),
            ("services", services),
            (
                "waivers",
                overrides
                    .get("waivers")
                    .cloned()
                    .unwrap_or(Value::Array(vec![])),
            ),
        ]);
        resolved.extend(sections);
        if let Some(policy) = self.document.get("policy") {
            resolved.insert("policy".to_owned(), policy.clone());
        }
        if let Some(budget) = overrides.get("budget_usd_month") {
            resolved.insert("budget_usd_month".to_owned(), budget.clone());
        }
        let spec: EnvironmentSpec = serde_path_to_error::deserialize(Value::Object(resolved))
            .map_err(|e| {
                let path = e.path().to_string();
                // The policy is the app's, not an environment's: named where it is written,
                // once however many environments there are.
                let field = if path.starts_with("policy.") {
                    path
                } else {
                    format!("{at}.{path}")
                };
                let message = e.inner().to_string();
                let message = message
                    .strip_prefix("policy.rules: ")
                    .map(str::to_owned)
                    .unwrap_or(message);
                ValidationErrors::from(FieldError::new(field, message))
            })?;
        // Report each problem where the user can fix it: in the override if it set that
        // key, otherwise in the base spec.
        let located: Vec<FieldError> = spec
            .check()
            .into_iter()
            .map(|e| FieldError::new(locate(&e.field, &self.document, overrides, &at), e.message))
            .collect();
        ValidationErrors(located).into_result()?;
        Ok(spec)
    }
}

fn json_empty() -> Value {
    Value::Object(Map::new())
}

fn json_object(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// JSON merge patch (RFC 7396) without deletion: objects merge, everything else replaces.
fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(base), Value::Object(patch)) => {
            for (key, value) in patch {
                merge(base.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// Maps a resolved path (`services[0].cpu`, `settings.allow_http`) to the place in the
/// file that set it.
fn locate(field: &str, document: &Value, overrides: &Value, at: &str) -> String {
    if let Some(rest) = field.strip_prefix("settings.") {
        return format!("{at}.settings.{rest}");
    }
    if let Some(rest) = field.strip_prefix("services[") {
        if let Some((index, key)) = rest.split_once("].") {
            let name = document["services"][index.parse::<usize>().unwrap_or(usize::MAX)]["name"]
                .as_str()
                .unwrap_or("");
            let top = key.split('.').next().unwrap_or(key);
            if overrides["services"][name].get(top).is_some() {
                return format!("{at}.services.{name}.{key}");
            }
        }
        return field.to_owned();
    }
    for section in ["database", "cache"] {
        if let Some(key) = field.strip_prefix(&format!("{section}.")) {
            if overrides[section].get(key).is_some() {
                return format!("{at}.{field}");
            }
        }
    }
    if field.starts_with("waivers") {
        return format!("{at}.{field}");
    }
    if let Some(key) = field.strip_prefix("promotion.") {
        let top = key.split(['.', '[']).next().unwrap_or(key);
        if overrides["promotion"].get(top).is_some() {
            return format!("{at}.{field}");
        }
    }
    field.to_owned()
}

/// Fargate's valid CPU values, and the memory each allows.
pub const FARGATE_CPU: [u32; 7] = [256, 512, 1024, 2048, 4096, 8192, 16384];

fn check_fargate_memory(cpu: u32, memory: u32) -> Result<(), String> {
    let (min, max, step) = match cpu {
        256 => (512, 2048, 512),
        512 => (1024, 4096, 1024),
        1024 => (2048, 8192, 1024),
        2048 => (4096, 16384, 1024),
        4096 => (8192, 30720, 1024),
        8192 => (16384, 61440, 4096),
        _ => (32768, 122880, 8192),
    };
    if memory < min || memory > max || !(memory - min).is_multiple_of(step) {
        return Err(format!(
            "{memory} MiB is not valid with cpu {cpu}; use {min} to {max} MiB in steps of {step}"
        ));
    }
    Ok(())
}

/// `arn:aws:ssm:REGION:ACCOUNT:parameter/NAME` or `arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME`.
pub fn is_secret_reference(value: &str) -> bool {
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && match parts[2] {
            "ssm" => parts[5].starts_with("parameter/") && parts[5].len() > "parameter/".len(),
            "secretsmanager" => parts[5].starts_with("secret:") && parts[5].len() > "secret:".len(),
            _ => false,
        }
}

/// Names that say "this is a secret": such values belong under `secrets`.
fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "PRIVATE_KEY",
        "API_KEY",
        "ACCESS_KEY",
    ]
    .iter()
    .any(|w| upper.contains(w))
}

impl EnvironmentSpec {
    /// The rules a schema cannot express, with resolved paths (`services[1].cpu`).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if let Err(problems) = crate::monitoring::rules::validate(&self.alert_rules()) {
            for problem in problems {
                let (field, message) = problem.split_once(": ").unwrap_or(("alerts", &problem));
                errors.push(FieldError::new(field.to_owned(), message.to_owned()));
            }
        }
        if let Err(problems) = self.alerts.routing.noise_config() {
            for (field, message) in problems {
                errors.push(FieldError::new(field, message));
            }
        }
        let mut push =
            |field: String, message: String| errors.push(FieldError::new(field, message));
        let mut names = std::collections::BTreeSet::new();
        for (i, s) in self.services.iter().enumerate() {
            let at = format!("services[{i}]");
            if !names.insert(s.name.as_str()) {
                push(
                    format!("{at}.name"),
                    format!("'{}' is used by two services", s.name),
                );
            }
            if !FARGATE_CPU.contains(&s.cpu) {
                push(format!("{at}.cpu"), format!("{} is not a valid Fargate CPU value; use one of 256, 512, 1024, 2048, 4096, 8192, 16384", s.cpu));
            } else if let Err(message) = check_fargate_memory(s.cpu, s.memory) {
                push(format!("{at}.memory"), message);
            }
            if let Some(a) = &s.autoscaling {
                if a.min > a.max {
                    push(
                        format!("{at}.autoscaling.min"),
                        format!("{} is above max ({})", a.min, a.max),
                    );
                } else if !(a.min..=a.max).contains(&s.desired_count) {
                    push(
                        format!("{at}.desired_count"),
                        format!(
                            "{} is outside autoscaling min..max ({}..{})",
                            s.desired_count, a.min, a.max
                        ),
                    );
                }
            }
            for (name, value) in &s.secrets {
                if !is_secret_reference(value) {
                    push(
                        format!("{at}.secrets.{name}"),
                        "a secret must be a reference, never a value: use arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME".into(),
                    );
                }
            }
            for name in s.environment.keys().chain(s.secrets.keys()) {
                let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                if !valid {
                    push(
                        format!("{at}.environment.{name}"),
                        "is not a valid variable name; use letters, digits and _".into(),
                    );
                }
            }
            for name in s.environment.keys().filter(|n| looks_secret(n)) {
                push(
                    format!("{at}.environment.{name}"),
                    "looks like a secret given as a plain value; move it to secrets as an SSM parameter or Secrets Manager ARN".into(),
                );
            }
            // The policy rule containers_not_root matches root by its usual spellings
            // (root, 0, root:root, 0:0, ...); uid 0 with another group is root too, and
            // is asked for in one of those spellings so the rule (and a waiver) sees it.
            if let Some((uid, gid)) = s.user.split_once(':') {
                if ["root", "0"].contains(&uid) && !["root", "0"].contains(&gid) {
                    push(
                        format!("{at}.user"),
                        format!("'{}' runs as root: write it as root (or 0), and waive containers_not_root", s.user),
                    );
                }
            }
            let scratch: u32 = s.tmpfs.values().sum();
            if scratch >= s.memory {
                push(
                    format!("{at}.tmpfs"),
                    format!("{scratch} MiB of tmpfs leaves nothing of the task's {} MiB for the app: tmpfs is memory", s.memory),
                );
            }
            if s.environment.keys().any(|k| s.secrets.contains_key(k)) {
                push(
                    format!("{at}.secrets"),
                    "a name is both a plain variable and a secret".into(),
                );
            }
        }
        let p = &self.profile;
        if !LOG_RETENTION_DAYS.contains(&p.log_retention_days) {
            push("settings.log_retention_days".into(), format!("{} is not a retention CloudWatch Logs offers; use one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...", p.log_retention_days));
        }
        if p.allow_http && self.profile_name != ProfileName::Dev {
            push(
                "settings.allow_http".into(),
                "plain HTTP is allowed in dev only; other profiles redirect port 80 to HTTPS"
                    .into(),
            );
        }
        if let Some(db) = &self.database {
            let major = db.version.split('.').next().unwrap_or("");
            let supported: &[&str] = if db.engine == "postgres" {
                &["13", "14", "15", "16", "17"]
            } else {
                &["8"]
            };
            if !supported.contains(&major) {
                push(
                    "database.version".into(),
                    format!(
                        "{} {} is not supported by RDS; use major version {}",
                        db.engine,
                        db.version,
                        supported.join(", ")
                    ),
                );
            }
        }
        if let Some(cache) = &self.cache {
            let major = cache.version.split('.').next().unwrap_or("");
            let supported: &[&str] = if cache.engine == "valkey" {
                &["7", "8"]
            } else {
                &["6", "7"]
            };
            if !supported.contains(&major) {
                push(
                    "cache.version".into(),
                    format!(
                        "{} {} is not supported by ElastiCache; use major version {}",
                        cache.engine,
                        cache.version,
                        supported.join(", ")
                    ),
                );
            }
        }
        for (field, message) in self.promotion.check() {
            push(format!("promotion.{field}"), message);
        }
        let policy = crate::infra::policy::Policy::for_app(self.policy.rules.as_ref());
        if let (Some(account), Some(app)) = (policy.account, policy.app) {
            let account = account.rule_names();
            if let Some(taken) = app.rule_names().iter().find(|n| account.contains(n)) {
                push(
                    "policy.rules".into(),
                    format!("rule {taken} is one of the account's policy rules; give yours another name"),
                );
            }
        }
        let names = policy.rule_names();
        for (i, waiver) in self.waivers.iter().enumerate() {
            if !names.contains(&waiver.rule) {
                push(
                    format!("waivers[{i}].rule"),
                    format!(
                        "'{}' is not a policy rule; use one of {}",
                        waiver.rule,
                        names.join(", ")
                    ),
                );
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "app: shop\nservices:\n  - {name: web, image: r, port: 80, cpu: 256, memory: 512}\n";

    fn errors(text: &str) -> Vec<String> {
        AppSpec::parse(text)
            .unwrap_err()
            .0
            .iter()
            .map(|e| e.field.clone())
            .collect()
    }

    #[test]
    fn an_error_an_override_causes_is_reported_at_the_override() {
        let text =
            format!("{BASE}environments:\n  prod:\n    services:\n      web: {{cpu: 300}}\n");
        assert_eq!(errors(&text), ["environments.prod.services.web.cpu"]);
    }

    #[test]
    fn overriding_what_does_not_exist_is_an_error() {
        let text = format!("{BASE}environments:\n  prod:\n    services:\n      api: {{cpu: 512}}\n    database: {{storage_gb: 50}}\n");
        assert_eq!(
            errors(&text),
            [
                "environments.prod.services.api",
                "environments.prod.database"
            ]
        );
    }

    #[test]
    fn plain_http_is_for_dev_only() {
        let text = format!("{BASE}environments:\n  staging:\n    settings: {{allow_http: true}}\n");
        assert_eq!(errors(&text), ["environments.staging.settings.allow_http"]);
    }

    #[test]
    fn profiles_come_from_the_name_or_are_named() {
        let text = format!(
            "{BASE}environments:\n  qa:\n    profile: staging\n    settings: {{nat: none}}\n"
        );
        let spec = AppSpec::parse(&text).unwrap();
        let qa = spec.environment("qa").unwrap();
        assert_eq!(
            (qa.profile_name, qa.profile.az_count, qa.profile.nat),
            (
                ProfileName::Staging,
                3,
                crate::infra::profile::NatPolicy::None
            )
        );
        assert_eq!(
            spec.environment("prod").unwrap().profile.log_retention_days,
            90
        );
        let err = spec.environment("perf").unwrap_err();
        assert_eq!(err.0[0].field, "environments.perf.profile");
    }

    #[test]
    fn overrides_merge_into_the_base() {
        let text = format!("{BASE}environments:\n  prod:\n    services:\n      web: {{desired_count: 4, environment: {{MODE: prod}}}}\n");
        let prod = AppSpec::parse(&text).unwrap().environment("prod").unwrap();
        let web = &prod.services[0];
        assert_eq!(
            (web.cpu, web.desired_count, web.environment["MODE"].as_str()),
            (256, 4, "prod")
        );
    }

    #[test]
    fn secrets_are_references() {
        assert!(is_secret_reference(
            "arn:aws:ssm:us-east-1:123456789012:parameter/shop/key"
        ));
        assert!(is_secret_reference(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:shop/db-AbCdEf"
        ));
        for bad in [
            "hunter2",
            "arn:aws:ssm:us-east-1:123456789012:parameter/",
            "arn:aws:s3:::bucket/key",
            "arn:aws:ssm:us-east-1:123:parameter/x",
        ] {
            assert!(!is_secret_reference(bad), "{bad}");
        }
    }

    #[test]
    fn containers_run_read_only_as_a_user_with_a_tmp_by_default() {
        let dev = AppSpec::parse(BASE).unwrap().environment("dev").unwrap();
        let web = &dev.services[0];
        assert_eq!(
            (
                web.user.as_str(),
                web.read_only_root_filesystem,
                web.tmpfs.clone()
            ),
            ("1000:1000", true, BTreeMap::from([("/tmp".to_owned(), 64)]))
        );
    }

    #[test]
    fn tmpfs_paths_are_absolute_and_fit_in_the_task_memory() {
        let text = format!(
            "{BASE}environments:\n  prod:\n    services:\n      web: {{tmpfs: {{/tmp: 512}}}}\n"
        );
        assert_eq!(errors(&text), ["environments.prod.services.web.tmpfs"]);
        let text = BASE.replace("memory: 512}", "memory: 512, tmpfs: {tmp: 16}}");
        assert_eq!(errors(&text), ["services[0].tmpfs"]);
        let text = BASE.replace("memory: 512}", "memory: 512, user: 'app user'}");
        assert_eq!(errors(&text), ["services[0].user"]);
        let text = BASE.replace("memory: 512}", "memory: 512, user: '0:1000'}");
        assert_eq!(errors(&text), ["services[0].user"]);
    }

    #[test]
    fn schema_errors_name_their_paths() {
        let text = "app: Shop\nservices:\n  - {name: web, image: r, port: 0, cpu: 256, memory: 512, replicas: 2}\nextra: 1\n";
        let fields = errors(text);
        assert!(fields.contains(&"app".to_owned()), "{fields:?}");
        assert!(
            fields.contains(&"services[0].port".to_owned()),
            "{fields:?}"
        );
        assert!(
            fields.contains(&"services[0].replicas".to_owned()),
            "{fields:?}"
        );
        assert!(fields.contains(&"extra".to_owned()), "{fields:?}");
    }
}
