#!/usr/bin/env python3
"""The metrics a run emitted, counted as the deployed stack counts them.

Reads every AWS::Logs::MetricFilter of infra/template.yaml (its log group, its JSON filter
pattern `{ $.fields.<name> = "<value>" }`, its metric, value and dimensions) and applies it to the JSON log
lines the function binaries wrote locally (one file per binary: <dir>/<binary>.log), as
CloudWatch Logs applies it to the function's log group. Prints one line per metric with its sum
and what it counted. Needs PyYAML (the project's .venv has it, through moto).

    metrics.py infra/template.yaml LOG_DIR
"""

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml


class TemplateLoader(yaml.SafeLoader):
    """CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) read as plain values."""


def _any_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return {suffix: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node)}
    return {suffix: loader.construct_mapping(node)}


TemplateLoader.add_multi_constructor("!", _any_tag)

PATTERN = re.compile(r'^\{\s*\$\.fields\.(\w+)\s*=\s*"([^"]*)"\s*\}$')


def ref(value):
    return value.get("Ref") if isinstance(value, dict) else None


def main(template_path, log_dir):
    template = yaml.load(Path(template_path).read_text(), Loader=TemplateLoader)
    resources = template["Resources"]
    # Log group resource -> the binary whose logs go there.
    binary_of_group = {}
    for res in resources.values():
        if res.get("Type") != "AWS::Serverless::Function":
            continue
        group = ref(res["Properties"].get("LoggingConfig", {}).get("LogGroup"))
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        if group and binary:
            binary_of_group[group] = binary
    totals = defaultdict(float)
    sources = defaultdict(set)
    for res in resources.values():
        if res.get("Type") != "AWS::Logs::MetricFilter":
            continue
        props = res["Properties"]
        binary = binary_of_group.get(ref(props["LogGroupName"]))
        match = PATTERN.match(props["FilterPattern"].strip())
        if not binary or not match:
            sys.exit(f"metrics.py: cannot read the filter {props['FilterPattern']!r}")
        field, wanted = match.groups()
        transform = props["MetricTransformations"][0]
        base = transform["MetricName"]
        value_spec = str(transform["MetricValue"])
        dimensions = [
            (d["Key"], d["Value"][len("$.fields."):]) for d in transform.get("Dimensions", [])
        ]
        if not dimensions:
            totals[base] += 0
        log = Path(log_dir) / f"{binary}.log"
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            fields = event.get("fields") or {}
            if str(fields.get(field)) != wanted:
                continue
            if value_spec.startswith("$.fields."):
                value = fields.get(value_spec[len("$.fields."):])
                if not isinstance(value, (int, float)):
                    continue
            else:
                value = float(value_spec)
            name = base + "".join(
                f" {key}={fields.get(field, '?')}" for key, field in dimensions
            )
            totals[name] += value
            sources[name].add(binary)
    for name in sorted(totals):
        where = ", ".join(sorted(sources[name])) or "no line matched"
        print(f"    {name:<36} {totals[name]:>10g}   ({where})")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
