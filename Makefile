# Ferry's two commands: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
VENV := .venv

.PHONY: setup demo test lint unit e2e validate fmt build-release clean

setup:
	@scripts/setup

## Runs Ferry's main job locally: deploy onto a local AWS, promote dev -> staging.
demo: setup
	@scripts/demo

## fmt, clippy, the template and state machine validators, every test tier.
test: setup lint validate unit e2e

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

validate:
	$(VENV)/bin/cfn-lint infra/ferry.json
	scripts/service-role --check
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 .venv-sam/bin/sam validate --lint --template-file infra/ferry.json
	scripts/lint-templates
	.local/node/node_modules/.bin/asl-validator --json-path state-machines/promotion.asl.json

unit:
	cargo test --workspace --exclude e2e

e2e:
	scripts/e2e

fmt:
	cargo fmt --all

## Lambda artifacts for a real AWS deploy (arm64, as infra/ferry.json declares).
build-release: setup
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/cargo-lambda lambda build --profile lambda-release --arm64 --output-format zip \
	  --bin api --bin promotion-step --bin template-generator --bin cost-analyzer --bin drift-checker --bin alert-evaluator

clean:
	rm -rf .local target/lambda
