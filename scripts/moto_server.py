#!/usr/bin/env python3
"""moto server, with the four fixes Ferry's local AWS needs on top of moto 5.2.5.

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
"""

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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
