//! The prod template of the largest example, generated and policy-checked: the work
//! behind every `ferry template`, `plan` and environment update. Target: under 1 ms.

use criterion::{criterion_group, criterion_main, Criterion};
use ferry_core::infra::spec::AppSpec;
use ferry_core::model::Environment;
use ferry_core::names::Colour;
use std::hint::black_box;

fn largest_example_prod() -> Environment {
    let spec =
        AppSpec::parse(include_str!("../../../examples/two-services.yaml")).expect("valid example");
    spec.new_environment("prod").expect("resolves")
}

fn bench(c: &mut Criterion) {
    let env = largest_example_prod();
    c.bench_function("generate prod template (two-services)", |b| {
        b.iter(|| ferry_core::infra::template::generate(black_box(&env), None, Colour::Blue))
    });
    c.bench_function(
        "generate + policy check prod template (two-services)",
        |b| {
            b.iter(|| {
                ferry_core::infra::template::render(black_box(&env), None, Colour::Blue)
                    .expect("passes policy")
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
