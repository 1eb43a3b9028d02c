#!/usr/bin/env python3
"""moto server, with the one fix Ferry's local AWS needs on top of moto 5.2.5.

moto's CloudFormation reads a listener's forward action only in its single-target form
(`TargetGroupArn`). AWS also accepts `ForwardConfig` with weighted target groups, which
is how Ferry's templates route between the blue and green services, and moto's own
ELBv2 API handles that form already. So forward actions without `TargetGroupArn` are
passed through as they are; everything else goes to moto unchanged.
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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
