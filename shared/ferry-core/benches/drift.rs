//! Live drift for a full prod environment (the largest example): the comparison alone,
//! and the whole check with its reads through the ports (in-memory here, so this is
//! Ferry's own cost; on AWS the reads' round trips dominate). Target: under 1 ms for
//! the comparison.

use criterion::{criterion_group, criterion_main, Criterion};
use ferry_core::infra::live_drift::{self, READ_TYPES};
use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use ferry_core::ports::{DeployedStacks, LiveRead};
use ferry_testkit::{InMemoryLive, InMemoryStacks};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::hint::black_box;

/// The template's properties as a service would report them: `Ref`s as physical ids.
fn as_deployed(value: &Value, ids: &BTreeMap<String, String>) -> Value {
    match value {
        Value::Object(m) if m.len() == 1 && m.contains_key("Ref") => {
            json!(ids.get(m["Ref"].as_str().unwrap_or_default()))
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), as_deployed(v, ids)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| as_deployed(v, ids)).collect()),
        other => other.clone(),
    }
}

fn bench(c: &mut Criterion) {
    let spec =
        AppSpec::parse(include_str!("../../../examples/two-services.yaml")).expect("valid example");
    let env = spec.new_environment("prod").expect("resolves");
    let template = ferry_core::infra::template::generate(&env, None, Colour::Blue);
    let stacks = InMemoryStacks::new();
    stacks.deploy(&env.stack_name, template.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let ids = runtime
        .block_on(stacks.physical_ids(&env.stack_name))
        .unwrap();
    let live = InMemoryLive::new();
    let mut reads = BTreeMap::new();
    for (id, resource) in template["Resources"].as_object().unwrap() {
        if READ_TYPES.contains(&resource["Type"].as_str().unwrap()) {
            let state = LiveRead::Found(as_deployed(&resource["Properties"], &ids));
            live.set(&ids[id], state.clone());
            reads.insert(id.clone(), state);
        }
    }
    println!("{} resources, {} read", ids.len(), reads.len());
    c.bench_function("live drift comparison, prod (two-services)", |b| {
        b.iter(|| live_drift::compare(black_box(&template), &ids, &reads))
    });
    c.bench_function(
        "live drift check with reads (in-memory ports), prod (two-services)",
        |b| {
            b.iter(|| {
                runtime
                    .block_on(live_drift::check(black_box(&template), &ids, &live))
                    .unwrap()
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
