//! Times the policy check on a template file: `cargo run --release --example guard_probe T`.
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).expect("a template file");
    let template: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let start = Instant::now();
    for _ in 0..50 {
        ferry_core::infra::policy::check(&template, &[]).unwrap();
    }
    println!("policy check: {:?} per run", start.elapsed() / 50);
}
