#!/usr/bin/env python3
"""moto server, with the fixes Ferry's local AWS needs on top of moto 5.2.5.

moto's CloudFormation reads a listener's forward action only in its single-target form
(`TargetGroupArn`). AWS also accepts `ForwardConfig` with weighted target groups, which
is how Ferry's templates route between the blue and green services, and moto's own
ELBv2 API handles that form already. So forward actions without `TargetGroupArn` are
passed through as they are; everything else goes to moto unchanged.

moto's GetMetricData computes Sum, Average, Minimum, Maximum and SampleCount only. The
canary judge asks for percentiles (`p50`, `p99` of TargetResponseTime), as CloudWatch
allows, so percentiles are computed here from the period's data points (nearest rank).

moto's target groups have no CloudFormation attributes, so `Fn::GetAtt` on
`TargetGroupFullName` (the CloudWatch dimension the judge queries, an output of every
Ferry stack) resolved to nothing and the output was dropped. It is the ARN's resource
part, `targetgroup/NAME/ID`, as on AWS.

moto's ExecuteChangeSet updates the resources but never the stack's outputs, so a stack
made or changed by change sets (every Ferry deploy) showed none, or stale ones. The
outputs are recomputed from the change set's template after it applies.

IAM: `scripts/local_aws.py` turns on moto's own check of every call against the caller's
policies (`/moto-api/reset-auth`), and each function calls with its own role. As moto
ships, that check refuses least-privilege policies AWS accepts, so it is mended here:
- moto knows a call's resource only for S3, SQS, IAM roles and STS, and checks every
  other call against `*`, which no ARN-scoped statement matches. Here SSM parameters,
  DynamoDB tables and indexes, CloudFormation stacks and Step Functions state machines
  are named too; for the rest the statement is assumed to apply if it allows, and not
  to apply if it denies.
- moto cannot evaluate condition keys (`aws:ResourceTag/...`, `iam:PassedToService`) and
  turned any statement with one into a deny; here, the same assumption as above.
- DynamoDB transactions are authorized per item (`dynamodb:PutItem`, ...), as on AWS,
  not as a `dynamodb:TransactWriteItems` action that IAM does not have.
- CloudWatch signs as `monitoring`; its actions are `cloudwatch:*`.
- A refusal comes back in the caller's protocol (JSON, query XML), not always EC2's XML.
- Role policies made by moto's CloudFormation are readable by the check, and signatures
  are checked on the body as sent (form-encoded and gzip bodies were re-encoded).
What stays unchecked (conditions, resources of other services, the calls CloudFormation
makes for a stack) is named in the README's "On a real account" section.

CloudWatch's DescribeAlarmHistory (moto has none) answers StateUpdate items from the
state changes moto records on each alarm, with AWS's `HistoryData` (`oldState` and
`newState`), filtered by alarm name and date: the promotion's bake watch reads it.

EventBridge's TestEventPattern answers with moto's own pattern matcher (moto answered
nothing).

CloudFormation's template limits: AWS refuses a `TemplateBody` over 51,200 bytes and a
template at `TemplateURL` over 1 MB (ValidationError); moto accepts any size. Both are
enforced here on CreateStack, UpdateStack, CreateChangeSet and ValidateTemplate.
"""

import gzip
import json
import sys

from moto.elbv2 import models as elbv2

_convert = elbv2.ELBv2Backend.convert_and_validate_properties


def convert_and_validate_properties(self, properties):
    converted = []
    for action in properties["DefaultActions"]:
        if action.get("Type") == "forward" and "TargetGroupArn" not in action and "ForwardConfig" in action:
            converted.append(action)
        else:
            converted.extend(_convert(self, {"DefaultActions": [action]}))
    return converted


elbv2.ELBv2Backend.convert_and_validate_properties = convert_and_validate_properties

from moto.cloudwatch import models as cloudwatch

_statistic = cloudwatch.Statistics.get_statistics_for_type


def get_statistics_for_type(self, stat):
    if stat.startswith("p"):
        try:
            quantile = float(stat[1:]) / 100.0
        except ValueError:
            return None
        values = sorted(self.metric_single_values_list)
        if not values:
            return None
        rank = max(1, -(-int(quantile * len(values) * 1e9) // int(1e9)))
        return values[min(rank, len(values)) - 1]
    return _statistic(self, stat)


cloudwatch.Statistics.get_statistics_for_type = get_statistics_for_type


def _target_group_has_cfn_attr(cls, attr):
    return attr in ("TargetGroupFullName", "TargetGroupArn", "TargetGroupName")


def _target_group_cfn_attribute(self, attribute_name):
    if attribute_name == "TargetGroupFullName":
        return self.arn.split(":")[-1]
    if attribute_name == "TargetGroupArn":
        return self.arn
    if attribute_name == "TargetGroupName":
        return self.name
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

    raise UnformattedGetAttTemplateException()


elbv2.FakeTargetGroup.has_cfn_attr = classmethod(_target_group_has_cfn_attr)
elbv2.FakeTargetGroup.get_cfn_attribute = _target_group_cfn_attribute

from moto.cloudformation import models as cloudformation

_apply_change_set = cloudformation.ChangeSet.apply


def apply_change_set(self):
    _apply_change_set(self)
    self.stack.template_dict = self.template_dict
    self.stack.output_map = self.stack._create_output_map()


cloudformation.ChangeSet.apply = apply_change_set

from moto.iam import access_control

_statement_permitted = access_control.IAMPolicyStatement.is_action_permitted


def statement_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    if principal is not None or incoming_condition_values is not None:
        # A role's trust policy (AssumeRole): moto evaluates it itself.
        return _statement_permitted(self, action, resource, principal, incoming_condition_values)
    statement = self._statement
    if "NotAction" in statement:
        concerned = not self._check_element_matches("NotAction", action)
    else:
        concerned = self._check_element_matches("Action", action)
    if not concerned:
        return access_control.PermissionResult.NEUTRAL
    allow = statement.get("Effect") == "Allow"
    if resource != "*":
        if "Resource" in statement and not self._check_element_matches("Resource", resource):
            return access_control.PermissionResult.NEUTRAL
        if "NotResource" in statement and self._check_element_matches("NotResource", resource):
            return access_control.PermissionResult.NEUTRAL
    elif not allow and statement.get("Resource", "*") != "*":
        # A Deny scoped to resources, on a call whose resource moto does not know.
        return access_control.PermissionResult.NEUTRAL
    if "Condition" in statement and not allow:
        return access_control.PermissionResult.NEUTRAL
    return access_control.PermissionResult.PERMITTED if allow else access_control.PermissionResult.DENIED


access_control.IAMPolicyStatement.is_action_permitted = statement_permitted

# moto's CloudFormation stores a role's inline policies as parsed documents (dicts), and
# its IAM check reads only text or its own policy records, so the functions' roles, made
# by the stack, could not be checked at all.
_policy_init = access_control.IAMPolicy.__init__


def policy_init(self, policy):
    if isinstance(policy, dict) and "Statement" in policy:
        # Its CloudFormation also leaves a statement that resolved to AWS::NoValue in the
        # list as null, where AWS drops it.
        if isinstance(policy["Statement"], list):
            policy = dict(policy, Statement=[st for st in policy["Statement"] if st is not None])
        policy = json.dumps(policy)
    _policy_init(self, policy)


access_control.IAMPolicy.__init__ = policy_init

# moto refuses a call in EC2's XML whatever the protocol; a JSON-protocol client (DynamoDB,
# SSM, Step Functions, ...) or a query-protocol one (CloudFormation, CloudWatch) cannot
# parse that and sees an unreadable reply, which Ferry would retry as transient. AWS
# answers each protocol in its own shape, as here.
from moto.core.exceptions import JsonRESTError

_raise_access_denied = access_control.IAMRequest._raise_access_denied


def raise_access_denied(self):
    message = f"User: {self._access_key.arn} is not authorized to perform: {self._action}"
    content_type = self._headers.get("Content-Type") or ""
    if "application/x-amz-json" in content_type:
        error = JsonRESTError("AccessDeniedException", message)
        error.code = 400
        raise error
    if "x-www-form-urlencoded" in content_type and self._service != "ec2":
        # The query protocol's error shape (CloudFormation, CloudWatch, IAM, SNS...): moto's
        # own wraps the error in <Errors>, as EC2 does, which the Rust SDK cannot read.
        from xml.sax.saxutils import escape

        from moto.core.exceptions import AccessDeniedError

        error = AccessDeniedError(user_arn=self._access_key.arn, action=self._action)
        error.description = ("<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>"
                             f"<Message>{escape(message)}</Message></Error><RequestId>ferry-local</RequestId></ErrorResponse>")
        raise error
    _raise_access_denied(self)


access_control.IAMRequest._raise_access_denied = raise_access_denied

# moto names an action by the service in the request's signing scope, which is not
# always the service's IAM prefix: CloudWatch signs as `monitoring` but its actions are
# `cloudwatch:*`, SES signs as `email` but its actions are `ses:*`.
IAM_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
_iam_request_init = access_control.IAMRequestBase.__init__


def iam_request_init(self, *args, **kwargs):
    _iam_request_init(self, *args, **kwargs)
    service, _, name = self._action.partition(":")
    self._action = f"{IAM_PREFIX.get(service, service)}:{name}"


access_control.IAMRequestBase.__init__ = iam_request_init

# The resource of a call, for the services whose policies Ferry scopes to ARNs, so those
# scopes are checked too (moto checks resources only for S3, SQS and IAM roles): an SSM
# parameter (by name, whose leading slash is not doubled in its ARN), a DynamoDB table or
# index (single-table calls), a CloudFormation stack (by name or ARN), a state machine or
# execution. Calls that name no single resource (transactions, batch calls, task tokens,
# change sets by ARN) are still checked against `*`.
from moto.cloudformation.responses import CloudFormationResponse
from moto.dynamodb.responses import DynamoHandler
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.stepfunctions.responses import StepFunctionResponse


def _arn(self, service, resource):
    return f"arn:aws:{service}:{self.region}:{self.current_account}:{resource}"


def _text_param(self, name):
    try:
        value = self._get_param(name)
    except Exception:  # a body moto cannot parse is refused later, by the action itself
        return None
    return value if isinstance(value, str) and value else None


def ssm_resource(self):
    name = _text_param(self, "Name")
    if name is None:
        return "*"
    return name if name.startswith("arn:") else _arn(self, "ssm", "parameter/" + name.lstrip("/"))


def dynamodb_resource(self):
    table = _text_param(self, "TableName")
    if table is None:
        return "*"
    index = _text_param(self, "IndexName")
    return _arn(self, "dynamodb", f"table/{table}" + (f"/index/{index}" if index else ""))


def cloudformation_resource(self):
    stack = _text_param(self, "StackName")
    if stack is None:
        return "*"
    return stack if stack.startswith("arn:") else _arn(self, "cloudformation", f"stack/{stack}/*")


def stepfunctions_resource(self):
    for name in ("stateMachineArn", "executionArn"):
        arn = _text_param(self, name)
        if arn is not None:
            return arn
    return "*"


# DynamoDB transactions are no IAM action of their own: AWS authorizes each item as its
# own action on its own table (Put as dynamodb:PutItem, ConditionCheck as
# dynamodb:ConditionCheckItem, ...). moto checked a `dynamodb:TransactWriteItems` action
# that no policy can grant.
TRANSACTION_ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                            "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
_dynamodb_authorize = DynamoHandler._authenticate_and_authorize_normal_action


def dynamodb_authorize(self, resource="*"):
    if self._get_action() not in ("TransactWriteItems", "TransactGetItems"):
        return _dynamodb_authorize(self, resource)
    items = self._get_param("TransactItems")
    if not isinstance(items, list):
        return _dynamodb_authorize(self, resource)
    for item in items:
        for kind, operation in item.items():
            action = TRANSACTION_ITEM_ACTIONS.get(kind)
            table = operation.get("TableName") if isinstance(operation, dict) else None
            if action is None or table is None:
                continue
            self._get_action = lambda action=action: action
            try:
                _dynamodb_authorize(self, _arn(self, "dynamodb", f"table/{table}"))
            finally:
                del self._get_action


DynamoHandler._authenticate_and_authorize_normal_action = dynamodb_authorize
SimpleSystemManagerResponse._determine_resource = ssm_resource
DynamoHandler._determine_resource = dynamodb_resource
CloudFormationResponse._determine_resource = cloudformation_resource
StepFunctionResponse._determine_resource = stepfunctions_resource

# A form-encoded (query protocol) request's body is consumed by werkzeug's form parsing,
# so moto re-encodes the parsed parameters to check the signature. Its encoding is not
# the Rust SDK's (it differs on some characters of a CloudFormation template), and the
# signature check failed on CreateChangeSet. The raw body is kept for the check.
from moto.core import responses as core_responses

_setup_class = core_responses.BaseResponse.setup_class


def setup_class(self, request, *args, **kwargs):
    raw = request.get_data(cache=True, parse_form_data=False)
    if request.content_encoding == "gzip" and raw:
        # The SDK compresses large bodies (PutMetricData): moto parses the plain text,
        # and the signature covers the bytes as sent.
        # (werkzeug parses the form from its cached data, so moto's own gzip reader,
        # which reads the consumed stream, is bypassed; the headers stay as signed.)
        request._cached_data = gzip.decompress(raw)
    _setup_class(self, request, *args, **kwargs)
    if raw and (not self.raw_body or request.content_encoding == "gzip"):
        self.raw_body = raw


core_responses.BaseResponse.setup_class = setup_class

from moto.cloudformation import responses as cloudformation_responses
from moto.cloudformation.exceptions import ValidationError

# A template URL on the local endpoint itself (`http://127.0.0.1:PORT/bucket/key`, which
# is what `sam deploy` makes when AWS_ENDPOINT_URL points it here) is path-style; moto
# read only `localhost` that way and took `127` for the bucket.
_stack_from_s3_url = cloudformation_responses.get_stack_from_s3_url


def stack_from_s3_url(template_url, account_id, partition):
    from urllib.parse import urlparse

    if urlparse(template_url).hostname == "127.0.0.1":
        template_url = template_url.replace("127.0.0.1", "localhost", 1)
    return _stack_from_s3_url(template_url, account_id=account_id, partition=partition)


cloudformation_responses.get_stack_from_s3_url = stack_from_s3_url

TEMPLATE_BODY_LIMIT = 51_200
TEMPLATE_URL_LIMIT = 1_000_000


def _enforce_template_limits(handler):
    def checked(self):
        body = self._get_param("TemplateBody")
        if body is not None and len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise ValidationError(message=(
                "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
                f"Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}"))
        url = self._get_param("TemplateURL")
        if url:
            size = len(self._get_stack_from_s3_url(url).encode())
            if size > TEMPLATE_URL_LIMIT:
                raise ValidationError(message=f"Template may not exceed {TEMPLATE_URL_LIMIT} bytes in size.")
        return handler(self)

    return checked


for _name in ("create_stack", "update_stack", "create_change_set", "validate_template"):
    _response_class = cloudformation_responses.CloudFormationResponse
    setattr(_response_class, _name, _enforce_template_limits(getattr(_response_class, _name)))

# EventBridge's TestEventPattern: moto has the matcher (its rules use it on PutEvents) but
# answers the call with nothing. It is how a test asks whether a rule's pattern takes an
# event, as on AWS.
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler


def test_event_pattern(self):
    try:
        event = json.loads(self._get_param("Event"))
        matched = EventPattern.load(self._get_param("EventPattern")).matches_event(event)
    except (TypeError, ValueError) as error:
        return self.error("InvalidEventPatternException", str(error))
    return self._create_response({"Result": matched})


EventsHandler.test_event_pattern = test_event_pattern

from datetime import datetime, timezone

from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.responses import ActionResult


def _as_utc(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def describe_alarm_history(self):
    name = self._get_param("AlarmName")
    item_type = self._get_param("HistoryItemType")
    start, end = _as_utc(self._get_param("StartDate")), _as_utc(self._get_param("EndDate"))
    items = []
    if item_type in (None, "StateUpdate"):
        for alarm in self.cloudwatch_backend.describe_alarms():
            if name and alarm.name != name:
                continue
            # moto keeps (type, old reason, old data, old state, old state's start) per
            # change; the change happened when the next state began.
            states = [(h[3], h[1]) for h in alarm.history]
            starts = [h[4] for h in alarm.history[1:]] + [alarm.state_updated_timestamp]
            news = [h[3] for h in alarm.history[1:]] + [alarm.state_value]
            for (old, reason), at, new in zip(states, starts, news):
                at = _as_utc(at)
                if (start and at < start) or (end and at > end):
                    continue
                items.append({
                    "AlarmName": alarm.name,
                    "AlarmType": "CompositeAlarm" if alarm.rule else "MetricAlarm",
                    "Timestamp": at,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": f"Alarm updated from {old} to {new}",
                    "HistoryData": json.dumps({
                        "version": "1.0",
                        "oldState": {"stateValue": old, "stateReason": reason},
                        "newState": {"stateValue": new},
                    }),
                })
    items.sort(key=lambda item: item["Timestamp"], reverse=True)
    return ActionResult({"AlarmHistoryItems": items})


CloudWatchResponse.describe_alarm_history = describe_alarm_history

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
