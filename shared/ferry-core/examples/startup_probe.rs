//! Times each part of `ferry template`'s first (cold) run in one process, the way the CLI
//! meets them: what a whole-process run pays once, which criterion's warm medians hide.
use std::time::Instant;

fn lap(label: &str, start: &mut Instant) {
    eprintln!(
        "{label:28} {:>8.3} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    *start = Instant::now();
}

fn main() {
    let text = include_str!("../../../examples/two-services.yaml");
    let mut start = Instant::now();
    let document = ferry_core::infra::spec::parse_document(text).unwrap();
    lap("parse YAML", &mut start);
    let spec = ferry_core::infra::spec::AppSpec::from_document(document.clone()).unwrap();
    lap("schema + rules (cold)", &mut start);
    ferry_core::infra::spec::AppSpec::from_document(document).unwrap();
    lap("schema + rules (warm)", &mut start);
    let env = spec.new_environment("prod").unwrap();
    lap("new_environment", &mut start);
    let template =
        ferry_core::infra::template::generate(&env, None, ferry_core::names::Colour::Blue);
    lap("generate (cold)", &mut start);
    ferry_core::infra::template::render(&env, None, ferry_core::names::Colour::Blue).unwrap();
    lap("render with policy (cold)", &mut start);
    ferry_core::infra::template::render(&env, None, ferry_core::names::Colour::Blue).unwrap();
    lap("render with policy (warm)", &mut start);
    let text = serde_json::to_string_pretty(&template).unwrap();
    lap("to_string_pretty", &mut start);
    eprintln!("{} bytes", text.len());
}
