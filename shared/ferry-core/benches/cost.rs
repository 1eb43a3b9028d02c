//! Pricing a 1,000-resource template, built by generating a prod environment with many
//! services: the work behind `ferry cost`, `plan` and every weekly cost report.
//! Target: under 10 ms. A pass that only walks the template (no pricing) runs beside it
//! as the baseline, so the ratio shows what pricing itself costs.

use criterion::{criterion_group, criterion_main, Criterion};
use ferry_core::cost::{self, advice::AdviceContext, Catalog, Usage};
use ferry_core::infra::profile::ProfileName;
use ferry_core::infra::spec::AppSpec;
use ferry_core::names::Colour;
use serde_json::Value;
use std::hint::black_box;

/// Prod templates of `apps` specs of 20 services each (the spec's limit), merged: service
/// names differ across specs, so every service's resources keep their own logical ids,
/// and the shared network resources appear once.
pub fn many_services_template(apps: usize) -> Value {
    let mut merged = serde_json::Map::new();
    for app in 0..apps {
        let mut spec = format!("app: fleet{app}\nservices:\n");
        for i in 0..20 {
            spec.push_str(&format!(
                "  - name: a{app}s{i}\n    image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/a{app}s{i}\n    port: 8080\n    cpu: 512\n    memory: 1024\n    desired_count: 2\n    path: /a{app}s{i}/*\n    autoscaling: {{min: 2, max: 6, cpu_target: 60}}\n"
            ));
        }
        spec.push_str("database: {engine: postgres, version: \"17.6\", instance_class: db.r6g.large, storage_gb: 100}\ncache: {engine: valkey, version: \"8.0\", node_type: cache.r7g.large}\n");
        let env = AppSpec::parse(&spec)
            .unwrap_or_else(|e| {
                panic!("spec {app}: {}", e.to_string().lines().next().unwrap_or(""))
            })
            .new_environment("prod")
            .expect("resolves");
        let template = ferry_core::infra::template::generate(&env, None, Colour::Blue);
        for (id, resource) in template["Resources"].as_object().into_iter().flatten() {
            merged.entry(id.clone()).or_insert_with(|| resource.clone());
        }
    }
    serde_json::json!({"Metadata": {"Ferry": {"Profile": "prod"}}, "Resources": merged})
}

fn bench(c: &mut Criterion) {
    let template = many_services_template(3);
    let resources = template["Resources"].as_object().map_or(0, |r| r.len());
    assert!(resources >= 1000, "the template has {resources} resources");
    let catalog = Catalog::bundled("us-east-1").expect("bundled");
    let usage = Usage::profile_defaults(ProfileName::Prod);
    let context = AdviceContext {
        profile: Some(ProfileName::Prod),
        ..AdviceContext::default()
    };
    let mut group = c.benchmark_group(format!("cost of a {resources}-resource template"));
    group.bench_function("baseline: walk every resource's type", |b| {
        b.iter(|| {
            black_box(&template)["Resources"]
                .as_object()
                .map_or(0, |r| r.values().filter(|v| v["Type"].is_string()).count())
        })
    });
    group.bench_function("estimate", |b| {
        b.iter(|| cost::estimate(black_box(&template), &catalog, &usage))
    });
    group.bench_function("estimate + advice", |b| {
        b.iter(|| cost::analyse(black_box(&template), &catalog, &usage, &context))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
