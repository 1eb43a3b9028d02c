//! Times template generation alone on the largest example's prod environment.
use std::time::Instant;
fn main() {
    let spec = ferry_core::infra::spec::AppSpec::parse(include_str!(
        "../../../examples/two-services.yaml"
    ))
    .unwrap();
    let env = spec.new_environment("prod").unwrap();
    let start = Instant::now();
    let mut size = 0;
    for _ in 0..200 {
        size += ferry_core::infra::template::generate(&env, None, ferry_core::names::Colour::Blue)
            ["Resources"]
            .as_object()
            .unwrap()
            .len();
    }
    println!(
        "generate: {:?} per run ({} resources)",
        start.elapsed() / 200,
        size / 200
    );
}
