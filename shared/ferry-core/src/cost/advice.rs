//! Savings advice: each piece carries its monthly saving in dollars, computed from the
//! same catalog as the estimate, and a risk note. Nothing the environment's policy
//! forbids is suggested: no Spot, schedules, single NAT or single-AZ in prod.

use super::catalog::rds_reserved_key;
use super::resources::vcpus_of_size;
use super::{number, round_cents, Advice, Catalog, CostEstimate, ResourceCost, HOURS_PER_MONTH};
use crate::infra::profile::ProfileName;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// P99.5 utilisation over the look-back window, in percent, as Compute Optimizer reads it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Utilisation {
    pub cpu_percent: f64,
    pub memory_percent: Option<f64>,
    /// How many days of data stand behind the figures.
    pub days: f64,
}

/// Rightsizing leaves this much room above the observed P99.5.
pub const HEADROOM: f64 = 1.2;
/// Fewer days than this, and utilisation is too thin to rightsize on.
pub const MIN_DAYS: f64 = 7.0;

/// When dev and staging run if they follow a schedule: weekdays only, these hours a day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    pub weekday_hours: f64,
    pub weekend_hours: f64,
}

impl Default for Schedule {
    /// 08:00 to 20:00 on weekdays, off at weekends.
    fn default() -> Schedule {
        Schedule {
            weekday_hours: 12.0,
            weekend_hours: 0.0,
        }
    }
}

impl Schedule {
    /// Hours a month on this schedule (730 h a month is 730/168 weeks).
    pub fn hours_per_month(&self) -> f64 {
        (self.weekday_hours * 5.0 + self.weekend_hours * 2.0) * HOURS_PER_MONTH / 168.0
    }
}

#[derive(Debug, Clone, Default)]
pub struct AdviceContext {
    pub profile: Option<ProfileName>,
    pub utilisation: BTreeMap<String, Utilisation>,
    pub schedule: Schedule,
}

impl AdviceContext {
    /// An unknown profile is taken as prod, so that nothing prod's policy forbids (Spot,
    /// schedules, one NAT, single-AZ) is suggested for an environment that may be prod.
    fn prod(&self) -> bool {
        self.profile.is_none_or(|p| p == ProfileName::Prod)
    }
}

/// Every piece of advice for a priced template, largest saving first.
pub fn advise(
    template: &Value,
    estimate: &CostEstimate,
    catalog: &Catalog,
    context: &AdviceContext,
) -> Vec<Advice> {
    let empty = Map::new();
    let resources = template["Resources"].as_object().unwrap_or(&empty);
    let mut advice = Vec::new();
    for cost in &estimate.resources {
        let props = &resources
            .get(&cost.logical_id)
            .map_or(&Value::Null, |r| &r["Properties"]);
        match cost.resource_type.as_str() {
            "AWS::ECS::Service" => {
                advice.extend(graviton_task(cost, resources, props, catalog));
                // Fargate Spot runs x86 tasks only; and never in prod.
                let x86 = task_of(resources, props).is_some_and(|t| {
                    t["RuntimePlatform"]["CpuArchitecture"].as_str() != Some("ARM64")
                });
                if !context.prod() && x86 {
                    advice.extend(fargate_spot(cost, catalog));
                }
                advice.extend(rightsize_task(cost, resources, props, context));
            }
            "AWS::RDS::DBInstance" => {
                advice.extend(rds_class(cost, props, catalog, context));
                if !context.prod() && super::truthy(&props["MultiAZ"]) {
                    advice.extend(single_az(cost, catalog));
                }
                if props["StorageType"].as_str().unwrap_or("gp2") == "gp2" {
                    advice.extend(gp3(cost, catalog));
                }
            }
            "AWS::ElastiCache::ReplicationGroup" | "AWS::ElastiCache::CacheCluster" => {
                advice.extend(cache_class(cost, props, catalog, context));
                let nodes = number(&props["NumCacheClusters"]).unwrap_or(1.0);
                if !context.prod() && nodes > 1.0 {
                    let per_node = cost.monthly_usd / nodes;
                    advice.push(Advice {
                        logical_id: cost.logical_id.clone(),
                        kind: "single-az".into(),
                        action: format!("Run one cache node instead of {nodes} outside prod: set NumCacheClusters to 1 and turn off Multi-AZ and automatic failover"),
                        monthly_saving_usd: round_cents(per_node * (nodes - 1.0)),
                        risk: "a node failure empties the cache until it is replaced".into(),
                    });
                }
            }
            _ => {}
        }
        if !context.prod() {
            advice.extend(schedule(cost, context));
        }
        if context.prod() {
            advice.extend(commitment(cost, catalog));
        }
    }
    if !context.prod() {
        advice.extend(single_nat(estimate, resources));
    }
    advice.extend(s3_gateway(estimate, resources));
    advice.retain(|a| a.monthly_saving_usd > 0.0);
    advice.sort_by(|a, b| b.monthly_saving_usd.total_cmp(&a.monthly_saving_usd));
    advice
}

fn task_of<'a>(resources: &'a Map<String, Value>, props: &Value) -> Option<&'a Value> {
    let id = props["TaskDefinition"]["Ref"].as_str()?;
    Some(&resources.get(id)?["Properties"])
}

/// The on-demand (not Spot) Fargate components of a service: vCPU-hours, GB-hours.
fn on_demand_hours(cost: &ResourceCost) -> (f64, f64, f64) {
    let pick = |name: &str| cost.components.iter().find(|c| c.name == name);
    let cpu = pick("vCPU");
    let memory = pick("memory");
    let usd = cpu.map_or(0.0, |c| c.monthly_usd) + memory.map_or(0.0, |c| c.monthly_usd);
    (
        cpu.map_or(0.0, |c| c.quantity),
        memory.map_or(0.0, |c| c.quantity),
        usd,
    )
}

fn fargate_cost(catalog: &Catalog, prefix: &str, vcpu_hours: f64, gb_hours: f64) -> Option<f64> {
    Some(
        round_cents(vcpu_hours * catalog.usd(&format!("fargate.{prefix}.vcpu_hour"))?)
            + round_cents(gb_hours * catalog.usd(&format!("fargate.{prefix}.gb_hour"))?),
    )
}

fn graviton_task(
    cost: &ResourceCost,
    resources: &Map<String, Value>,
    props: &Value,
    catalog: &Catalog,
) -> Option<Advice> {
    let task = task_of(resources, props)?;
    if task["RuntimePlatform"]["CpuArchitecture"].as_str() == Some("ARM64") {
        return None;
    }
    let (cpu, memory, usd) = on_demand_hours(cost);
    let arm = fargate_cost(catalog, "arm64", cpu, memory)?;
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "graviton".into(),
        action: "Run the task on Graviton: set RuntimePlatform.CpuArchitecture to ARM64 and publish an arm64 or multi-arch image".into(),
        monthly_saving_usd: round_cents(usd - arm),
        risk: "the image and any native dependencies must be built for arm64".into(),
    })
}

fn fargate_spot(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    let (cpu, memory, usd) = on_demand_hours(cost);
    let spot = fargate_cost(catalog, "spot", cpu, memory)?;
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "fargate-spot".into(),
        action: "Run the tasks on Fargate Spot: capacity provider FARGATE_SPOT".into(),
        monthly_saving_usd: round_cents(usd - spot),
        risk: "Spot tasks can be stopped with two minutes' notice; Spot is x86 only, and its price varies".into(),
    })
}

/// The valid Fargate task sizes: CPU units, and memory MiB from, to and by.
const FARGATE_SIZES: [(f64, f64, f64, f64); 7] = [
    (256.0, 512.0, 2048.0, 512.0),
    (512.0, 1024.0, 4096.0, 1024.0),
    (1024.0, 2048.0, 8192.0, 1024.0),
    (2048.0, 4096.0, 16384.0, 1024.0),
    (4096.0, 8192.0, 30720.0, 1024.0),
    (8192.0, 16384.0, 61440.0, 4096.0),
    (16384.0, 32768.0, 122880.0, 8192.0),
];

/// The smallest valid Fargate size with at least `cpu` units and `memory` MiB.
pub fn smallest_fargate_size(cpu: f64, memory: f64) -> Option<(f64, f64)> {
    FARGATE_SIZES.iter().find_map(|&(units, from, to, step)| {
        if units < cpu {
            return None;
        }
        let mut size = from;
        while size < memory && size < to {
            size += step;
        }
        (size >= memory).then_some((units, size))
    })
}

fn rightsize_task(
    cost: &ResourceCost,
    resources: &Map<String, Value>,
    props: &Value,
    context: &AdviceContext,
) -> Option<Advice> {
    let seen = context.utilisation.get(&cost.logical_id)?;
    if seen.days < MIN_DAYS {
        return None;
    }
    let task = task_of(resources, props)?;
    let (cpu, memory) = (number(&task["Cpu"])?, number(&task["Memory"])?);
    let memory_percent = seen.memory_percent?;
    let need_cpu = cpu * seen.cpu_percent / 100.0 * HEADROOM;
    let need_memory = memory * memory_percent / 100.0 * HEADROOM;
    let (new_cpu, new_memory) = smallest_fargate_size(need_cpu, need_memory)?;
    if new_cpu >= cpu && new_memory >= memory {
        return None;
    }
    // Every vCPU and memory component (on demand and Spot) scales with the task size.
    let (cpu_ratio, memory_ratio) = (new_cpu / cpu, new_memory / memory);
    let now: f64 = cost.components.iter().map(|c| c.monthly_usd).sum();
    let after: f64 = cost
        .components
        .iter()
        .map(|c| {
            let ratio = if c.name.starts_with("vCPU") {
                cpu_ratio
            } else {
                memory_ratio
            };
            round_cents(c.quantity * ratio * c.unit_usd)
        })
        .sum();
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "rightsize".into(),
        action: format!(
            "Rightsize the task from {cpu} CPU / {memory} MiB to {new_cpu} CPU / {new_memory} MiB: P99.5 over {} days is {:.1}% CPU and {:.1}% memory, sized with 20% headroom",
            seen.days, seen.cpu_percent, memory_percent
        ),
        monthly_saving_usd: round_cents(now - after),
        risk: "a traffic peak larger than the look-back window saw would hit the new limit; keep the CPU and memory alarms".into(),
    })
}

/// Size ladder shared by RDS and ElastiCache classes; memory doubles at each step, and
/// vCPUs double from `large` up (burstable t-classes stay at 2 vCPUs).
const SIZES: [&str; 7] = [
    "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge",
];

/// Moves off x86 and previous-generation families, as `(from, [to, ...], kind)` class
/// prefixes, to each Graviton family that could take the load; the cheapest in the
/// catalog wins (a newer Graviton generation is not always the cheaper one: db.r7g costs
/// more than db.r6i in some regions).
const FAMILY_MOVES: [(&str, &[&str], &str); 14] = [
    ("db.t2.", &["db.t4g."], "previous-generation"),
    ("db.t3.", &["db.t4g."], "graviton"),
    ("db.m4.", &["db.m6g.", "db.m7g."], "previous-generation"),
    ("db.m5.", &["db.m6g.", "db.m7g."], "previous-generation"),
    ("db.m6i.", &["db.m6g.", "db.m7g."], "graviton"),
    ("db.r4.", &["db.r6g.", "db.r7g."], "previous-generation"),
    ("db.r5.", &["db.r6g.", "db.r7g."], "previous-generation"),
    ("db.r6i.", &["db.r6g.", "db.r7g."], "graviton"),
    ("cache.t2.", &["cache.t4g."], "previous-generation"),
    ("cache.t3.", &["cache.t4g."], "graviton"),
    (
        "cache.m4.",
        &["cache.m6g.", "cache.m7g."],
        "previous-generation",
    ),
    (
        "cache.m5.",
        &["cache.m6g.", "cache.m7g."],
        "previous-generation",
    ),
    (
        "cache.r4.",
        &["cache.r6g.", "cache.r7g."],
        "previous-generation",
    ),
    (
        "cache.r5.",
        &["cache.r6g.", "cache.r7g."],
        "previous-generation",
    ),
];

/// The instance-hours component of a database or cache, single-AZ or Multi-AZ.
fn instance_component(cost: &ResourceCost) -> Option<&super::Component> {
    cost.components
        .iter()
        .find(|c| c.price.ends_with(".hour") || c.price.ends_with(".multi_az_hour"))
}

/// What moving the instance component from `class` to `target` saves, at the target's
/// price (scaled like the current one, e.g. by Valkey's factor).
fn class_move(cost: &ResourceCost, class: &str, target: &str, catalog: &Catalog) -> Option<f64> {
    let component = instance_component(cost)?;
    let key = component.price.replace(class, target);
    let target_price = catalog.usd(&key)? * (component.unit_usd / catalog.usd(&component.price)?);
    Some(round_cents(
        component.monthly_usd - round_cents(component.quantity * target_price),
    ))
}

fn family_advice(
    cost: &ResourceCost,
    class: &str,
    catalog: &Catalog,
    what: &str,
) -> Option<Advice> {
    let (from, targets, kind) = FAMILY_MOVES
        .iter()
        .find(|(from, _, _)| class.starts_with(from))?;
    let (target, saving) = targets
        .iter()
        .filter_map(|to| {
            let target = class.replacen(from, to, 1);
            let saving = class_move(cost, class, &target, catalog)?;
            Some((target, saving))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let (action, risk) = if *kind == "graviton" {
        (
            format!("Move {what} from {class} to Graviton {target}"),
            "a short outage while the instance class changes; test the engine version on arm64",
        )
    } else {
        (
            format!("Move {what} off the previous-generation {class} to {target}"),
            "a short outage while the instance class changes",
        )
    };
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: (*kind).into(),
        action,
        monthly_saving_usd: saving,
        risk: risk.into(),
    })
}

/// A smaller class in the same family when P99.5 CPU and memory, with headroom, fit.
fn downsize(
    cost: &ResourceCost,
    class: &str,
    seen: &Utilisation,
    catalog: &Catalog,
    what: &str,
) -> Option<Advice> {
    if seen.days < MIN_DAYS {
        return None;
    }
    let (family, size) = class.rsplit_once('.')?;
    let index = SIZES.iter().position(|s| *s == size)?;
    let burstable = family.ends_with(".t4g") || family.ends_with(".t3") || family.ends_with(".t2");
    let memory = seen.memory_percent.unwrap_or(100.0);
    let mut best = None;
    for smaller in (0..index).rev() {
        let memory_ratio = 0.5_f64.powi((index - smaller) as i32);
        let cpu_ratio = if burstable {
            1.0
        } else {
            vcpus_of_size(&format!("x.{}", SIZES[smaller]))? / vcpus_of_size(class)?
        };
        let fits = seen.cpu_percent * HEADROOM <= 100.0 * cpu_ratio
            && memory * HEADROOM <= 100.0 * memory_ratio;
        if !fits {
            break;
        }
        best = Some(format!("{family}.{}", SIZES[smaller]));
    }
    let target = best?;
    let saving = class_move(cost, class, &target, catalog)?;
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "rightsize".into(),
        action: format!(
            "Rightsize {what} from {class} to {target}: P99.5 over {} days is {:.1}% CPU and {} memory, sized with 20% headroom",
            seen.days,
            seen.cpu_percent,
            seen.memory_percent.map_or("unknown".into(), |m| format!("{m:.1}%"))
        ),
        monthly_saving_usd: saving,
        risk: "a short outage while the class changes; a peak beyond the look-back window would hit the smaller class".into(),
    })
}

fn rds_class(
    cost: &ResourceCost,
    props: &Value,
    catalog: &Catalog,
    context: &AdviceContext,
) -> Vec<Advice> {
    let Some(class) = props["DBInstanceClass"].as_str() else {
        return Vec::new();
    };
    let mut advice: Vec<Advice> = family_advice(cost, class, catalog, "the database")
        .into_iter()
        .collect();
    if let Some(seen) = context.utilisation.get(&cost.logical_id) {
        advice.extend(downsize(cost, class, seen, catalog, "the database"));
    }
    advice
}

fn cache_class(
    cost: &ResourceCost,
    props: &Value,
    catalog: &Catalog,
    context: &AdviceContext,
) -> Vec<Advice> {
    let Some(class) = props["CacheNodeType"].as_str() else {
        return Vec::new();
    };
    let mut advice: Vec<Advice> = family_advice(cost, class, catalog, "the cache")
        .into_iter()
        .collect();
    if let Some(seen) = context.utilisation.get(&cost.logical_id) {
        advice.extend(downsize(cost, class, seen, catalog, "the cache"));
    }
    advice
}

/// Outside prod, a single-AZ database: the instance at its single-AZ price (or half, when
/// the standby was billed like the primary), and half the storage.
fn single_az(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    let mut saving = 0.0;
    for c in cost
        .components
        .iter()
        .filter(|c| !c.usage_based && !c.price.starts_with("secretsmanager"))
    {
        saving += match c.price.strip_suffix(".multi_az_hour") {
            Some(class) => {
                c.monthly_usd - round_cents(c.quantity * catalog.usd(&format!("{class}.hour"))?)
            }
            None => c.monthly_usd / 2.0,
        };
    }
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "single-az".into(),
        action: "Outside prod, one AZ is enough: set MultiAZ to false".into(),
        monthly_saving_usd: round_cents(saving),
        risk: "an AZ failure or maintenance means minutes of downtime instead of a failover".into(),
    })
}

fn gp3(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    let storage = cost
        .components
        .iter()
        .find(|c| c.price == "rds.gp2.gb_month")?;
    let gp3 = catalog.usd("rds.gp3.gb_month")?;
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "gp3".into(),
        action: "Move the storage from gp2 to gp3: set StorageType to gp3 (3,000 IOPS included at any size)".into(),
        monthly_saving_usd: round_cents(storage.monthly_usd - round_cents(storage.quantity * gp3)),
        risk: "none beyond a storage modification; performance is at least gp2's below 1 TB".into(),
    })
}

/// Stopping at night and at weekends: the hourly compute components, cut to the schedule.
fn schedule(cost: &ResourceCost, context: &AdviceContext) -> Option<Advice> {
    let (what, risk) = match cost.resource_type.as_str() {
        "AWS::ECS::Service" => ("the service's tasks (desired count 0)", "the environment is unavailable outside the schedule"),
        "AWS::RDS::DBInstance" => ("the database", "a stopped RDS instance restarts by itself after 7 days; the schedule must stop it again"),
        _ => return None,
    };
    let hourly: f64 = cost
        .components
        .iter()
        .filter(|c| c.unit.contains("hour") && !c.usage_based)
        .map(|c| c.monthly_usd)
        .sum();
    let scheduled = context.schedule.hours_per_month();
    let saving = hourly * (1.0 - scheduled / HOURS_PER_MONTH);
    Some(Advice {
        logical_id: cost.logical_id.clone(),
        kind: "schedule".into(),
        action: format!(
            "Stop {what} outside working hours ({} h on weekdays, {} h at weekends: {scheduled:.1} h a month instead of 730)",
            context.schedule.weekday_hours, context.schedule.weekend_hours
        ),
        monthly_saving_usd: round_cents(saving),
        risk: risk.into(),
    })
}

/// 1-year, no-upfront commitments for steady prod usage, with the break-even point.
fn commitment(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    match cost.resource_type.as_str() {
        "AWS::ECS::Service" => savings_plan(cost, catalog),
        "AWS::RDS::DBInstance" => reserved_instance(cost, catalog),
        _ => None,
    }
}

fn commitment_advice(cost: &ResourceCost, what: &str, rate: f64, saving: f64) -> Advice {
    Advice {
        logical_id: cost.logical_id.clone(),
        kind: "commitment".into(),
        action: format!(
            "Cover the steady usage with {what} at {:.0}% of the on-demand rate; it breaks even if the usage runs more than {:.0}% of the hours ({:.0} h a month)",
            rate * 100.0,
            rate * 100.0,
            rate * HOURS_PER_MONTH
        ),
        monthly_saving_usd: round_cents(saving),
        risk: "the commitment is owed for the whole year even if the usage stops".into(),
    }
}

/// A Compute Savings Plan discounts Fargate's vCPU and memory hours by one rate per
/// region; Spot hours are already cheaper and are left out.
fn savings_plan(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    let rate = catalog.usd("savingsplan.compute.fargate.1yr_no_upfront")?;
    let covered: f64 = cost
        .components
        .iter()
        .filter(|c| c.unit.contains("hour") && !c.usage_based && !c.name.contains("Spot"))
        .map(|c| c.monthly_usd)
        .sum();
    Some(commitment_advice(
        cost,
        "a 1-year, no-upfront Compute Savings Plan",
        rate,
        covered * (1.0 - rate),
    ))
}

/// Reserved Instance rates differ by class (from 0.58 to 0.77 of on-demand among the
/// catalog's own), so the instance hours are compared with their class's own reserved
/// hourly rate, never with another class's discount.
fn reserved_instance(cost: &ResourceCost, catalog: &Catalog) -> Option<Advice> {
    let hours = instance_component(cost)?;
    let reserved = catalog.usd(&rds_reserved_key(&hours.price)?)?;
    if hours.unit_usd <= 0.0 || reserved >= hours.unit_usd {
        return None;
    }
    Some(commitment_advice(
        cost,
        "a 1-year, no-upfront Reserved Instance",
        reserved / hours.unit_usd,
        hours.quantity * (hours.unit_usd - reserved),
    ))
}

fn single_nat(estimate: &CostEstimate, resources: &Map<String, Value>) -> Option<Advice> {
    let nats: Vec<&ResourceCost> = estimate
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::EC2::NatGateway")
        .collect();
    if nats.len() < 2 {
        return None;
    }
    // Each NAT gateway beyond the first also frees its Elastic IP.
    let per_nat = |nat: &ResourceCost| {
        let hours: f64 = nat
            .components
            .iter()
            .filter(|c| !c.usage_based)
            .map(|c| c.monthly_usd)
            .sum();
        let eip = resources[&nat.logical_id]["Properties"]["AllocationId"]["Fn::GetAtt"][0]
            .as_str()
            .and_then(|eip| estimate.resource(eip))
            .map_or(0.0, |r| r.monthly_usd);
        hours + eip
    };
    let saving: f64 = nats.iter().skip(1).map(|n| per_nat(n)).sum();
    Some(Advice {
        logical_id: nats.iter().map(|n| n.logical_id.as_str()).collect::<Vec<_>>().join(", "),
        kind: "single-nat".into(),
        action: format!("Outside prod, route every private subnet through one NAT gateway instead of {} (settings: nat: single)", nats.len()),
        monthly_saving_usd: round_cents(saving),
        risk: "an outage of that NAT's AZ cuts every private subnet off from the internet".into(),
    })
}

fn s3_gateway(estimate: &CostEstimate, resources: &Map<String, Value>) -> Option<Advice> {
    let has_gateway = resources.values().any(|r| {
        r["Type"] == "AWS::EC2::VPCEndpoint"
            && r["Properties"]["VpcEndpointType"]
                .as_str()
                .unwrap_or("Gateway")
                == "Gateway"
            && r["Properties"]["ServiceName"].to_string().contains("s3")
    });
    if has_gateway {
        return None;
    }
    let processing: f64 = estimate
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::EC2::NatGateway")
        .flat_map(|r| &r.components)
        .filter(|c| c.price == "nat.gb")
        .map(|c| c.monthly_usd)
        .sum();
    Some(Advice {
        logical_id: "Vpc".into(),
        kind: "s3-gateway-endpoint".into(),
        action: "Add an S3 gateway endpoint (free): S3 traffic stops paying NAT data processing. The saving shown is the upper bound, if all NAT traffic is S3".into(),
        monthly_saving_usd: round_cents(processing),
        risk: "none: S3 requests keep working through the endpoint; bucket policies that match source IPs need aws:SourceVpce instead".into(),
    })
}
