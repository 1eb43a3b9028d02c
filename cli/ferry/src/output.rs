use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, Table};
use ferry_core::cost::CostEstimate;
use serde_json::Value;

pub fn print_json(value: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

/// Values as a person scans them: image digests cut to 12 hex digits, long text cut.
fn short(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let text = match text.split_once("@sha256:") {
        Some((repository, digest)) if digest.len() > 12 => {
            let name = repository.rsplit('/').next().unwrap_or(repository);
            format!("{name}@sha256:{}", &digest[..12])
        }
        _ => text,
    };
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(57).collect::<String>())
    } else {
        text
    }
}

/// `2026-11-26T06:01:31.627623065Z` -> `06:01:31.627`.
fn clock(timestamp: &str) -> String {
    timestamp
        .split_once('T')
        .map_or(timestamp, |(_, time)| time)
        .chars()
        .take(12)
        .collect()
}

/// A promotion's steps, in the order they ran, with what each one did.
pub fn print_timeline(record: &Value) {
    println!(
        "promotion {} ({} -> {}, {}): {}, requested by {}",
        record["id"].as_str().unwrap_or("?"),
        record["source_env"].as_str().unwrap_or("?"),
        record["target_env"].as_str().unwrap_or("?"),
        record["strategy"].as_str().unwrap_or("?"),
        record["status"].as_str().unwrap_or("?"),
        record["requested_by"].as_str().unwrap_or("?"),
    );
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "finished (UTC)",
        "step",
        "outcome",
        "what it did",
    ]);
    for step in record["steps"].as_array().into_iter().flatten() {
        table.add_row([
            Cell::new(clock(step["finished_at"].as_str().unwrap_or("?"))),
            Cell::new(step["name"].as_str().unwrap_or("?")),
            Cell::new(step["outcome"].as_str().unwrap_or("?")),
            Cell::new(describe_step(step)),
        ]);
    }
    println!("{table}");
}

/// What a step did, on one line: weights as `blue 90 / green 10`, the judge as its
/// outcome, score and each metric's classification.
fn describe_step(step: &Value) -> String {
    let Some(detail) = step["detail"].as_object() else {
        return String::new();
    };
    detail
        .iter()
        .filter(|(k, _)| !["factors", "traffic", "change_set", "plan"].contains(&k.as_str()))
        .map(|(k, v)| match (k.as_str(), v) {
            ("weights", Value::Object(w)) => format!(
                "weights=blue {} / green {}",
                w.get("blue").unwrap_or(&Value::Null),
                w.get("green").unwrap_or(&Value::Null)
            ),
            // "this change adds $5.62/month", as the template generator priced it.
            ("cost", Value::Object(c)) if c.contains_key("summary") => {
                format!("cost: {}", short(&c["summary"]))
            }
            ("judge" | "analysis", Value::Object(j)) if j.contains_key("metrics") => {
                let metrics: Vec<String> = j["metrics"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| format!("{} {}", short(&m["name"]), short(&m["classification"])))
                    .collect();
                format!(
                    "judge={} score {} ({})",
                    short(&j["outcome"]),
                    j["score"],
                    metrics.join(", ")
                )
            }
            _ => format!("{k}={}", short(v)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One step as it lands, for `ferry promote --watch`.
pub fn print_step(step: &Value) {
    println!(
        "  {} {:<12} {:<9} {}",
        clock(step["finished_at"].as_str().unwrap_or("?")),
        step["name"].as_str().unwrap_or("?"),
        step["outcome"].as_str().unwrap_or("?"),
        describe_step(step)
    );
}

/// `ferry promotions APP`.
pub fn print_promotions(answer: &Value) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "created (UTC)",
        "promotion",
        "to",
        "strategy",
        "status",
        "requested by",
    ]);
    for p in answer["promotions"].as_array().into_iter().flatten() {
        table.add_row([
            Cell::new(short(&p["created_at"])),
            Cell::new(short(&p["id"])),
            Cell::new(format!(
                "{} -> {}",
                short(&p["source_env"]),
                short(&p["target_env"])
            )),
            Cell::new(short(&p["strategy"])),
            Cell::new(short(&p["status"])),
            Cell::new(short(&p["requested_by"])),
        ]);
    }
    println!("{table}");
}

pub fn print_estimate(estimate: &CostEstimate) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "resource",
        "component",
        "quantity",
        "unit price",
        "USD / month",
    ]);
    for resource in &estimate.resources {
        table.add_row([
            Cell::new(format!(
                "{} ({})",
                resource.logical_id, resource.resource_type
            )),
            Cell::new(""),
            Cell::new(""),
            Cell::new(""),
            Cell::new(format!("{:.2}", resource.monthly_usd)),
        ]);
        for c in &resource.components {
            let usage = if c.usage_based { " *" } else { "" };
            table.add_row([
                Cell::new(""),
                Cell::new(format!("{}{usage}", c.name)),
                Cell::new(format!("{} {}", trim_number(c.quantity), c.unit)),
                Cell::new(format!("${}", trim_number(c.unit_usd))),
                Cell::new(format!("{:.2}", c.monthly_usd)),
            ]);
        }
    }
    println!("{table}");
    println!(
        "total: ${:.2} / month in {} (* usage-based, from {})",
        estimate.monthly_usd, estimate.region, estimate.usage
    );
    for advice in &estimate.advice {
        println!(
            "save ${:.2} / month on {}: {} (risk: {})",
            advice.monthly_saving_usd, advice.logical_id, advice.action, advice.risk
        );
    }
    for unpriced in &estimate.unpriced {
        println!(
            "not priced: {} ({}): {}",
            unpriced.logical_id, unpriced.resource_type, unpriced.reason
        );
    }
}

/// Ferry's own bill: what it assumes, the estimate, and its usage-based part.
pub fn print_ferry_bill(
    estimate: &CostEstimate,
    assumptions: &ferry_core::cost::bill::Assumptions,
) {
    let a = assumptions;
    println!(
        "Ferry's own bill for {} environments: {} promotions a month, {} alert evaluations a month ({} a minute), {} drift checks and {} cost reports a month",
        trim_number(a.environments),
        trim_number(a.promotions_per_month),
        trim_number(a.evaluations_per_month),
        trim_number(a.evaluations_per_minute),
        trim_number((a.drift_checks_per_month * 100.0).round() / 100.0),
        trim_number((a.cost_reports_per_month * 100.0).round() / 100.0),
    );
    print_estimate(estimate);
    let usage_based = estimate.usage_based_usd();
    println!(
        "usage-based: ${usage_based:.2} / month; fixed by the template: ${:.2} / month (figures and their sources: docs/ferry-bill.md)",
        ferry_core::cost::round_cents(estimate.monthly_usd - usage_based)
    );
    for warning in &a.warnings {
        println!("warning: {warning}");
    }
}

pub struct EnvironmentCost {
    pub env: String,
    pub estimate: CostEstimate,
}

/// `ferry cost SPEC`: a line per environment and the app's total.
pub fn print_app_cost(app: &str, environments: &[EnvironmentCost], total: f64) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "environment",
        "USD / month",
        "usage-based",
        "not priced",
        "largest saving",
    ]);
    for EnvironmentCost { env, estimate } in environments {
        let largest = estimate.advice.first().map_or(String::new(), |a| {
            format!(
                "${:.2} ({}, {})",
                a.monthly_saving_usd, a.kind, a.logical_id
            )
        });
        table.add_row([
            Cell::new(env),
            Cell::new(format!("{:.2}", estimate.monthly_usd)),
            Cell::new(format!("{:.2}", estimate.usage_based_usd())),
            Cell::new(estimate.unpriced.len()),
            Cell::new(largest),
        ]);
    }
    println!("{table}");
    let region = environments
        .first()
        .map_or("", |e| e.estimate.region.as_str());
    println!("{app}: ${total:.2} / month in {region} (--env ENV lists one environment's resources and advice)");
}

/// A number without float noise: 730, 0.5, 0.03238.
fn trim_number(value: f64) -> String {
    let text = format!("{:.6}", value);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

pub fn print_cost_diff(diff: &ferry_core::cost::diff::CostDiff) {
    let mut table = Table::new();
    table.load_preset(UTF8_FULL_CONDENSED).set_header([
        "resource",
        "type",
        &diff.before_label,
        &diff.after_label,
        "change",
    ]);
    for change in &diff.changes {
        table.add_row([
            Cell::new(&change.logical_id),
            Cell::new(&change.resource_type),
            Cell::new(format!("{:.2}", change.before_usd)),
            Cell::new(format!("{:.2}", change.after_usd)),
            Cell::new(format!("{:+.2}", change.delta_usd)),
        ]);
    }
    println!("{table}");
    println!(
        "{}: ${:.2} -> ${:.2} / month",
        diff.summary(),
        diff.before_usd,
        diff.after_usd
    );
}

/// `ferry status APP`: one block per environment.
pub fn print_health(health: &Value) {
    for env in health["environments"].as_array().into_iter().flatten() {
        println!(
            "{} {}: {}",
            short(&health["app"]),
            short(&env["env"]),
            short(&env["status"])
        );
        if let Some(release) = env["release"].as_str() {
            println!(
                "  release    {} ({} live)",
                short(&Value::String(release.to_owned())),
                short(&env["live_colour"])
            );
        }
        for alarm in env["alarms"].as_array().into_iter().flatten() {
            println!(
                "  alarm      {} ({}) since {}",
                short(&alarm["alarm"]),
                short(&alarm["component"]),
                short(&alarm["since"])
            );
        }
        if let Some(cause) = env["incident"]["root_cause"].as_object() {
            let reasons: Vec<String> = cause["reasons"]
                .as_array()
                .into_iter()
                .flatten()
                .map(short)
                .collect();
            println!(
                "  root cause {}: {}",
                short(&cause["component"]),
                reasons.join("; ")
            );
        }
        if env["last_promotion"].is_object() {
            let p = &env["last_promotion"];
            println!(
                "  promotion  {} from {} ({}): {}",
                short(&p["id"]),
                short(&p["from"]),
                short(&p["strategy"]),
                short(&p["status"])
            );
        }
        if env["drift"].is_object() {
            println!(
                "  drift      {} at {}",
                short(&env["drift"]["status"]),
                short(&env["drift"]["checked_at"])
            );
        }
        if env["cost"].is_object() {
            println!(
                "  cost       ${} / month",
                short(&env["cost"]["monthly_usd"])
            );
        }
    }
}

/// `ferry drift APP ENV`: a line per drift, then how many resources were not checked.
pub fn print_drift(report: &Value) {
    let live: Vec<&Value> = report["live"].as_array().into_iter().flatten().collect();
    let drifts: Vec<&&Value> = live.iter().filter(|d| d["kind"] != "NOT_CHECKED").collect();
    let template = report["resources"].as_array().map_or(0, Vec::len);
    println!(
        "{}: {} ({} live differences, {} template differences)",
        short(&report["stack_name"]),
        short(&report["status"]),
        drifts.len(),
        template
    );
    for d in report["resources"].as_array().into_iter().flatten() {
        println!(
            "  TEMPLATE   {} {}",
            short(&d["logical_id"]),
            short(&d["kind"])
        );
    }
    for d in &drifts {
        let property = d["property"]
            .as_str()
            .map_or(String::new(), |p| format!(".{p}"));
        println!(
            "  {:<10} {}{property} expected {} actual {}",
            short(&d["kind"]),
            short(&d["logical_id"]),
            d.get("expected").map_or("-".into(), Value::to_string),
            d.get("actual").map_or("-".into(), Value::to_string),
        );
    }
    let unread: usize = report["unread"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, ids)| ids.as_array().map_or(0, Vec::len))
        .sum();
    let unchecked = live.len() - drifts.len() + unread;
    if unchecked > 0 {
        println!("  {unchecked} resources not checked (--json lists each with its reason)");
    }
}

/// `ferry drift compare APP FROM TO`: the unexplained differences first, then the rest
/// by what explains them, then each side's live drift.
pub fn print_comparison(c: &Value) {
    let differences: Vec<&Value> = c["differences"].as_array().into_iter().flatten().collect();
    let of = |kind: &'static str| {
        differences
            .iter()
            .filter(move |d| d["explained_by"] == kind)
    };
    println!(
        "{} {} -> {}: {} differences, {} unexplained",
        short(&c["app"]),
        short(&c["from"]),
        short(&c["to"]),
        differences.len(),
        of("unexplained").count()
    );
    let value = |v: &Value| {
        if v.is_null() {
            "-".to_owned()
        } else {
            v.to_string()
        }
    };
    for kind in ["unexplained", "spec", "profile", "release"] {
        for d in of(kind) {
            println!(
                "  {kind:<11} {} {} -> {}",
                short(&d["path"]),
                value(&d["from"]),
                value(&d["to"])
            );
        }
    }
    for f in c["spec_fields"].as_array().into_iter().flatten() {
        println!(
            "  spec field  {} {} -> {}",
            short(&f["path"]),
            value(&f["from"]),
            value(&f["to"])
        );
    }
    for side in ["from", "to"] {
        for d in c[format!("{side}_drift")].as_array().into_iter().flatten() {
            println!(
                "  drift ({})  {} {}",
                short(&c[side]),
                short(&d["logical_id"]),
                short(&d["kind"])
            );
        }
    }
}
