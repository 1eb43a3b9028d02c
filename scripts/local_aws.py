#!/usr/bin/env python3
"""Ferry on a local AWS: moto server, a Lambda router, and the real functions.

    local_aws.py up     start moto, the router and `cargo lambda watch`; deploy infra/ferry.json
    local_aws.py down   stop everything `up` started
    local_aws.py router (internal) the Lambda router process
    local_aws.py slack  (internal) a stand-in for a Slack incoming webhook

Step Functions on moto invokes Lambda tasks at localhost:$MOTO_PORT. moto cannot run
Lambda code without Docker, so MOTO_PORT points at the router instead: it sends
/2015-03-31/functions/NAME/invocations to `cargo lambda watch` (the real binaries, through
the Lambda runtime API) and everything else to moto. Every port is picked at random.

Ferry's resources come from infra/ferry.json, the template deployed to AWS. This script
does to it exactly what `sam package` / `aws cloudformation package` do before a real
deploy: upload each function's code and inline the state machine definition. moto skips
the resource types it does not implement (API Gateway v2); they are listed at start-up.
"""

import argparse
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
REGION = "us-east-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION}
LOCAL_ADMIN = "admin@ferry.local"  # FERRY_ADMINS of a local Ferry: the tests' and the demo's identity
# Types moto's CloudFormation skips (with a warning) in infra/ferry.json: the stack
# deploys without them. Ferry's own alarms and invoke configs are checked on the
# template instead (tests/infra).
MOTO_UNSUPPORTED = {"AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
                    "AWS::CloudWatch::Alarm", "AWS::Lambda::EventInvokeConfig", "AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"}


def log(message):
    print(f"[local-aws] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, what, timeout, proc=None, method="GET"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with code {proc.returncode}; see its log in the state dir")
        try:
            urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout}s")


# ---------------------------------------------------------------------------- router

FUNCTION_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


def binary_name(function, prefix):
    """`arn:...:function:ferry-local-api[:qualifier]` or `ferry-local-api` -> `api`."""
    name = urllib.parse.unquote(function)
    if name.startswith("arn:"):
        name = name.split(":")[6]
    return name[len(prefix):] if name.startswith(prefix) else name


def make_router(moto, watches, prefix):
    """`watches` maps each function's binary to the `cargo lambda watch` that serves it
    with that function's own role credentials."""
    class Router(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # one line per request, to the router's log
            sys.stderr.write("router: " + (fmt % args) + "\n")

        def _forward(self):
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else None
            path = urllib.parse.urlsplit(self.path).path
            match = FUNCTION_PATH.match(path) if self.command == "POST" else None
            if match:
                binary = binary_name(match.group(1), prefix)
                if binary not in watches:
                    return self._no_such_function(binary)
                target = f"{watches[binary]}/2015-03-31/functions/{binary}/invocations"
                headers = {"content-type": "application/json"}
            else:
                target = moto + self.path
                # The Host header is kept: it is part of what a SigV4 signature covers, and
                # moto checks signatures once IAM is enforced.
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("content-length", "connection")}
            request = urllib.request.Request(target, data=body, method=self.command, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=600) as response:
                    status, reply_headers, payload = response.status, list(response.headers.items()), response.read()
            except urllib.error.HTTPError as error:
                status, reply_headers, payload = error.code, list(error.headers.items()), error.read()
            extra = []
            if match:
                reply_headers = [("Content-Type", "application/json")]
                extra = [("X-Amz-Executed-Version", "$LATEST")]
                if status >= 400:
                    # Lambda answers a function error with 200 and this header; watch answers
                    # 500. Step Functions' Retry/Catch match the errorType only the Lambda way.
                    status = 200
                    extra.append(("X-Amz-Function-Error", "Unhandled"))
            self.send_response(status)
            for key, value in reply_headers + extra:
                if key.lower() not in ("content-length", "transfer-encoding", "connection", "server", "date"):
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _no_such_function(self, binary):
            payload = json.dumps({"Type": "User", "message": f"Function not found: {binary}"}).encode()
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Amzn-ErrorType", "ResourceNotFoundException")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    return Router


def make_slack_sink():
    """Slack's incoming webhook, locally: POST /hook keeps the JSON body (answering "ok"
    as Slack does); GET /posts returns every body kept, in order, for tests and the demo."""
    posts, lock = [], threading.Lock()

    class Sink(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("slack: " + (fmt % args) + "\n")

        def _reply(self, status, body, kind="text/plain"):
            payload = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if self.path != "/hook":
                return self._reply(404, "no_service")
            try:
                post = json.loads(body)
            except ValueError:
                return self._reply(400, "invalid_payload")
            with lock:
                posts.append(post)
            self._reply(200, "ok")

        def do_GET(self):
            if self.path != "/posts":
                return self._reply(404, "no_service")
            with lock:
                self._reply(200, json.dumps(posts), "application/json")

    return Sink


def run_slack(args):
    server = ThreadingHTTPServer(("127.0.0.1", args.listen), make_slack_sink())
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


def run_router(args):
    server = ThreadingHTTPServer(("127.0.0.1", args.listen), make_router(args.moto, json.loads(args.watches), args.prefix))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


# ---------------------------------------------------------------------------- deploy

def placeholder_zip(binary):
    """moto stores Lambda code but never runs it here (no Docker): the router sends every
    invocation to the real binary. The zip says so, for anyone who downloads it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("bootstrap", f"#!/bin/sh\necho 'local AWS: {binary} is served by cargo lambda watch through the router' >&2\nexit 1\n")
    return buffer.getvalue()


def substituted(text, substitutions):
    """DefinitionSubstitutions as an Fn::Join: each ${Name} replaced by its value, and
    nothing else touched. (moto's Fn::Sub runs string.Template, which would also eat the
    "$$" of ASL's context object, as in $$.Task.Token.)"""
    pattern = re.compile(r"\$\{(" + "|".join(re.escape(k) for k in substitutions) + r")\}") if substitutions else None
    if pattern is None:
        return text
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts += [text[last:match.start()], substitutions[match.group(1)]]
        last = match.end()
    parts.append(text[last:])
    return {"Fn::Join": ["", parts]}


def package_for_moto(template, s3, bucket):
    """What `sam package` does: upload code, inline the state machine definition."""
    skipped = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in MOTO_UNSUPPORTED:
            skipped.append(f"{logical_id} ({resource['Type']})")
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(props.get("Code"), str):
            binary = Path(props["Code"]).parent.name
            s3.put_object(Bucket=bucket, Key=f"{binary}.zip", Body=placeholder_zip(binary))
            props["Code"] = {"S3Bucket": bucket, "S3Key": f"{binary}.zip"}
        if resource["Type"] == "AWS::StepFunctions::StateMachine" and isinstance(props.get("DefinitionS3Location"), str):
            definition = (ROOT / "infra" / props.pop("DefinitionS3Location")).resolve().read_text()
            props["DefinitionString"] = substituted(definition, props.pop("DefinitionSubstitutions", {}))
    # moto cannot resolve outputs of the resources it skipped.
    for name in [n for n, o in template.get("Outputs", {}).items() if "HttpApi" in json.dumps(o)]:
        del template["Outputs"][name]
    return skipped


def function_roles(template):
    """Each function's binary and the logical id of its execution role, from the template."""
    roles = {}
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function" and isinstance(props.get("Code"), str):
            roles[Path(props["Code"]).parent.name] = props["Role"]["Fn::GetAtt"][0]
    return roles


def deploy(endpoint, stack, template, parameters):
    import boto3

    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = session.client("s3", endpoint_url=endpoint)
    cfn = session.client("cloudformation", endpoint_url=endpoint)
    bucket = f"{stack}-artifacts"
    s3.create_bucket(Bucket=bucket)
    skipped = package_for_moto(template, s3, bucket)
    log("moto does not implement, so skips: " + ", ".join(skipped))
    # As `sam deploy` does: the packaged template goes to S3 and CloudFormation reads it
    # from there (Ferry's own template is over the 51,200-byte TemplateBody limit).
    s3.put_object(Bucket=bucket, Key="ferry.json", Body=json.dumps(template).encode())
    cfn.create_stack(StackName=stack, TemplateURL=f"https://{bucket}.s3.{REGION}.amazonaws.com/ferry.json", Capabilities=["CAPABILITY_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()])
    cfn.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    outputs = cfn.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    outputs = {o["OutputKey"]: o["OutputValue"] for o in outputs}

    # moto keeps executable state machines in a second backend, which its CloudFormation
    # does not write to. Read back what the stack created (definition with the function
    # ARNs substituted by CloudFormation) and register that same machine with the executor.
    sfn = session.client("stepfunctions", endpoint_url=endpoint)
    created = sfn.describe_state_machine(stateMachineArn=outputs["StateMachineArn"])
    moto_api(endpoint, "config", json.dumps({"stepfunctions": {"execute_state_machine": True}}))
    registered = sfn.create_state_machine(name=created["name"], definition=created["definition"], roleArn=created["roleArn"])
    assert registered["stateMachineArn"] == outputs["StateMachineArn"], registered
    log("state machine registered with moto's executor")
    return outputs


def function_environments(endpoint, stack, binaries):
    """Each function's environment as the stack configured it, read back from Lambda."""
    import boto3

    lam = boto3.client("lambda", region_name=REGION, endpoint_url=endpoint, **boto_credentials())
    return {binary: lam.get_function_configuration(FunctionName=f"{stack}-{binary}").get("Environment", {}).get("Variables", {})
            for binary in binaries}


def moto_api(endpoint, path, body):
    urllib.request.urlopen(urllib.request.Request(
        f"{endpoint}/moto-api/{path}", data=body.encode(), method="POST",
        headers={"content-type": "application/json"}), timeout=10)


def credentials_for_roles(endpoint, stack, roles):
    """An admin for the tests and the demo (as the person who deployed Ferry), and, for
    each function, its execution role's credentials from sts:AssumeRole, as Lambda hands
    them to the function in AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
    Runs before IAM is enforced: the roles trust lambda.amazonaws.com, not the admin."""
    import boto3

    session = boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    iam = session.client("iam", endpoint_url=endpoint)
    sts = session.client("sts", endpoint_url=endpoint)
    iam.create_user(UserName="ferry-local-admin")
    iam.put_user_policy(UserName="ferry-local-admin", PolicyName="admin", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="ferry-local-admin")["AccessKey"]
    admin = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    physical = {r.get("LogicalResourceId"): r.get("PhysicalResourceId") for r in
                session.client("cloudformation", endpoint_url=endpoint).describe_stack_resources(StackName=stack)["StackResources"]}
    functions = {}
    for binary, role in roles.items():
        arn = iam.get_role(RoleName=physical[role])["Role"]["Arn"]
        # 12 hours, the longest a role session can last, so a long local run never sees
        # its credentials expire (moto does not expire them anyway).
        issued = sts.assume_role(RoleArn=arn, RoleSessionName=f"{stack}-{binary}"[:64], DurationSeconds=43200)["Credentials"]
        functions[binary] = {"role_arn": arn, "AWS_ACCESS_KEY_ID": issued["AccessKeyId"],
                             "AWS_SECRET_ACCESS_KEY": issued["SecretAccessKey"], "AWS_SESSION_TOKEN": issued["SessionToken"]}
    return admin, functions


# ---------------------------------------------------------------------------- up/down

def spawn(name, argv, state, env=None, cwd=ROOT):
    logfile = open(state / f"{name}.log", "ab")
    proc = subprocess.Popen(argv, stdout=logfile, stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True)
    (state / f"{name}.pid").write_text(str(proc.pid))
    return proc


def build_functions(binaries):
    """Builds each function as `cargo lambda watch` will run it (`cargo run --bin NAME` at
    the workspace root), before any watch starts. A build that fails (a compile error, a
    full disk) then stops `up` with cargo's message; left to the first invocation, the
    watch dies and the caller's request hangs until its timeout with no cause shown."""
    for binary in sorted(binaries):
        subprocess.run(["cargo", "build", "--quiet", "--manifest-path", "Cargo.toml", "--bin", binary], cwd=ROOT, check=True)


def up(args):
    state = Path(args.state_dir).resolve()
    state.mkdir(parents=True, exist_ok=True)
    if list(state.glob("*.pid")):
        down(args)
    template = json.loads((ROOT / "infra" / "ferry.json").read_text())
    roles = function_roles(template)
    moto_port, router_port = free_port(), free_port()
    watch_urls = {binary: f"http://127.0.0.1:{free_port()}" for binary in roles}
    build_functions(roles)
    moto_url, router_url = (f"http://127.0.0.1:{p}" for p in (moto_port, router_port))
    base_env = dict(os.environ, **CREDENTIALS)

    # Step Functions tasks call localhost:$MOTO_PORT: make that the router.
    moto = spawn("moto", [str(VENV / "bin" / "python"), str(ROOT / "scripts" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(moto_port)], state,
                 env=dict(base_env, MOTO_PORT=str(router_port)))
    wait_for(f"{moto_url}/moto-api/", "moto", 60, moto)
    log(f"moto on {moto_url}")

    prefix = f"{args.stack}-"
    router = spawn("router", [sys.executable, __file__, "router", "--listen", str(router_port), "--moto", moto_url,
                              "--watches", json.dumps(watch_urls), "--prefix", prefix], state, env=base_env)
    wait_for(f"{router_url}/moto-api/", "router", 30, router)
    log(f"router on {router_url}")

    # The parameters an operator would give a real deploy (README, "On a real account").
    slack_parameter = f"/{args.stack}/slack-webhook"
    parameters = {"AdminPrincipals": LOCAL_ADMIN, "AlertSlackWebhookParameter": slack_parameter}
    outputs = deploy(moto_url, args.stack, template, parameters)
    log(f"stack {args.stack} deployed: {outputs}")

    # Slack, locally: the alert-evaluator reads the webhook URL from SSM at cold start, as
    # in AWS, and posts to a sink that keeps what it receives.
    slack_port = free_port()
    slack_url = f"http://127.0.0.1:{slack_port}"
    slack = spawn("slack", [sys.executable, __file__, "slack", "--listen", str(slack_port)], state, env=base_env)
    wait_for(f"{slack_url}/posts", "slack sink", 30, slack)
    ssm_put_secure_string(moto_url, slack_parameter, f"{slack_url}/hook")
    log(f"slack sink on {slack_url}, its URL in SSM {slack_parameter}")

    certificate_arn = request_certificate(moto_url, "e2e.ferry.test")
    configured = function_environments(moto_url, args.stack, roles)
    admin, function_credentials = credentials_for_roles(moto_url, args.stack, roles)
    (state / "roles.json").write_text(json.dumps(function_credentials, indent=2))
    # From here on every call to the local AWS is checked against the caller's policies
    # (see scripts/moto_server.py for what moto can and cannot check).
    moto_api(moto_url, "reset-auth", "0")
    log("IAM enforced: each function calls with its own role's credentials")

    # Each function runs with the environment the stack gave it, plus what only a local
    # run sets: where the local AWS is, and the switches the functions refuse in Lambda.
    local_env = {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_url,
        "FERRY_FAULT_INJECTION": "true",
        "FERRY_LOCAL_IDENTITY": "true",
        "FERRY_STACK_POLL_SECONDS": "0.5",
        # The state machine's first Wait before it looks at a stack a step changed.
        "FERRY_STACK_WAIT_SECONDS": "1",
    }
    # One `cargo lambda watch` per function: each process carries that function's role
    # credentials in its environment, as Lambda gives each function its own.
    watch_env = dict(os.environ, PATH=f"{VENV / 'bin'}:{os.environ['PATH']}")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        watch_env.pop(name, None)
    watches = {}
    for binary, url in watch_urls.items():
        credentials = {k: v for k, v in function_credentials[binary].items() if k.startswith("AWS_")}
        env_file = state / f"{binary}.env"
        env_file.write_text("".join(f"{k}=\"{v}\"\n" for k, v in {**configured[binary], **local_env, **credentials}.items()))
        port = url.rsplit(":", 1)[1]
        watches[binary] = spawn(f"watch-{binary}", [str(VENV / "bin" / "cargo-lambda"), "lambda", "watch", "--ignore-changes", "-A", "127.0.0.1",
                                                   "-P", port, "--env-file", str(env_file)], state, env=watch_env)
    for binary, proc in watches.items():
        wait_for(f"{watch_urls[binary]}/", f"cargo lambda watch ({binary})", 120, proc)
    log(f"cargo lambda watch: {len(watches)} functions, each with its own role")

    exports = {
        **local_env,
        **admin,
        "FERRY_TABLE_NAME": outputs["TableName"],
        "FERRY_STATE_MACHINE_ARN": outputs["StateMachineArn"],
        # What `ferry deploy` takes from the Ferry stack's outputs (--role-arn, --artifacts-bucket).
        "FERRY_STACK_ROLE_ARN": outputs["EnvironmentStackRoleArn"],
        "FERRY_ARTIFACTS_BUCKET": outputs["ArtifactsBucketName"],
        "FERRY_LOCAL_STACK": args.stack,
        "FERRY_MOTO_URL": moto_url,
        "FERRY_ROUTER_URL": router_url,
        "FERRY_SLACK_URL": slack_url,
        "FERRY_LOCAL_STATE": str(state),
        "FERRY_LOCAL_ROLES": str(state / "roles.json"),
        # For the HTTPS listeners of environment stacks.
        "FERRY_CERTIFICATE_ARN": certificate_arn,
    }
    (state / "env.sh").write_text("".join(f"export {k}='{v}'\n" for k, v in exports.items()))
    print(state / "env.sh")


def down(args):
    state = Path(args.state_dir).resolve()
    for pidfile in sorted(state.glob("*.pid")):
        try:
            os.killpg(int(pidfile.read_text()), signal.SIGTERM)
        except (ProcessLookupError, ValueError, PermissionError):
            pass
        pidfile.unlink()
    log("stopped")


def certificate(args):
    """Prints an ACM certificate ARN on the local AWS, for stacks' HTTPS listeners."""
    print(request_certificate(args.endpoint, args.domain))


def request_certificate(endpoint, domain):
    import boto3

    acm = boto3.client("acm", region_name=REGION, endpoint_url=endpoint, **boto_credentials())
    return acm.request_certificate(DomainName=domain)["CertificateArn"]


def traffic(args):
    """Puts synthetic ALB target-group metrics for one colour of an environment stack:
    moto runs no load balancer, so the demo stands in for its traffic. One data point a
    second over the last `--seconds` (and the next `--ahead`, timestamped ahead of time as
    a steady load would be): latency around `--latency` s, requests, no 5xx, healthy
    hosts."""
    import datetime

    import boto3

    cloudformation = boto3.client("cloudformation", region_name=REGION, endpoint_url=args.endpoint, **boto_credentials())
    cloudwatch = boto3.client("cloudwatch", region_name=REGION, endpoint_url=args.endpoint, **boto_credentials())
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cloudformation.describe_stacks(StackName=args.stack)["Stacks"][0].get("Outputs", [])}
    title = args.colour.capitalize()
    groups = [v for k, v in outputs.items() if k.endswith(f"{title}TargetGroupFullName")]
    now = datetime.datetime.now(datetime.timezone.utc)
    for group in groups:
        dimensions = [{"Name": "TargetGroup", "Value": group}, {"Name": "LoadBalancer", "Value": outputs["LoadBalancerFullName"]}]
        data = []
        for i in range(args.seconds + args.ahead):
            at = now - datetime.timedelta(seconds=args.seconds - i)
            wobble = 1.0 + 0.1 * (((i * 7919) % 21) - 10) / 10.0
            for name, value in (("TargetResponseTime", args.latency * wobble), ("RequestCount", 100.0),
                                ("HTTPCode_Target_5XX_Count", 0.0), ("HealthyHostCount", 2.0)):
                data.append({"MetricName": name, "Dimensions": dimensions, "Timestamp": at, "Value": value})
        for start in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=data[start:start + 500])
    log(f"{args.stack} {args.colour}: {args.seconds + args.ahead} s of synthetic traffic on {len(groups)} target group(s)")


def ssm_put_secure_string(endpoint, name, value):
    import boto3
    ssm = boto3.client("ssm", region_name=REGION, endpoint_url=endpoint, **boto_credentials())
    ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)


def boto_credentials():
    """The caller's credentials (the admin's, from env.sh, once IAM is enforced)."""
    return {"aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", CREDENTIALS["AWS_ACCESS_KEY_ID"]),
            "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", CREDENTIALS["AWS_SECRET_ACCESS_KEY"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "down"):
        p = sub.add_parser(name)
        p.add_argument("--state-dir", default=str(ROOT / ".local" / "run"))
        p.add_argument("--stack", default="ferry-local")
    r = sub.add_parser("router")
    r.add_argument("--listen", type=int, required=True)
    r.add_argument("--moto", required=True)
    r.add_argument("--watches", required=True, help="JSON: binary name -> URL of the cargo lambda watch serving it")
    r.add_argument("--prefix", required=True)
    k = sub.add_parser("slack")
    k.add_argument("--listen", type=int, required=True)
    c = sub.add_parser("certificate")
    c.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"))
    c.add_argument("--domain", default="demo.ferry.test")
    t = sub.add_parser("traffic")
    t.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"))
    t.add_argument("--stack", required=True)
    t.add_argument("--colour", choices=["blue", "green"], required=True)
    t.add_argument("--latency", type=float, default=0.2)
    t.add_argument("--seconds", type=int, default=120)
    t.add_argument("--ahead", type=int, default=0,
                   help="also cover this many seconds after now, so a bake that starts later still finds traffic")
    args = parser.parse_args()
    {"up": up, "down": down, "router": run_router, "slack": run_slack, "certificate": certificate, "traffic": traffic}[args.command](args)


if __name__ == "__main__":
    main()
