#!/usr/bin/env python3
"""The hub's Terraform module (hub/terraform) mirrors its CloudFormation template (hub/template.yaml), the
reference and the tested source (the emulator runs the template's inline code):

1. hub/terraform/index.py is the template's `ZipFile:` code, byte for byte after dedent (extracted as
   tests/emulator/server.py's hub_code does). `--write` copies it from the template.
2. The .tf files (parsed with python-hcl2) declare what the template does: the rules' event pattern, the
   table's keys and TTL, the function's runtime, handler, timeout, memory and environment, the target's
   retry policy, the parameter's name, and the variables' defaults and constraints.

Run with the test venv's python from anywhere; no AWS, no terraform needed. Exit 1 with one FAIL line per
difference.
"""
import os
import re
import sys
import textwrap

import hcl2
import yaml
from hcl2.utils import SerializationOptions

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TEMPLATE = "hub/template.yaml"
MODULE = "hub/terraform"
CODE = f"{MODULE}/index.py"
FIX_CODE = ("the template is the tested source: change the code there, then copy it with "
            "`.venv/bin/python tests/integrations/hub_terraform.py --write`")
failures = []


def fail(msg):
    failures.append(msg)


def check(cond, msg):
    if not cond:
        fail(msg)
    return cond


def done():
    if failures:
        for msg in failures:
            print(f"FAIL hub terraform: {msg}", file=sys.stderr)
        sys.exit(1)


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !Sub, !GetAtt …) kept as plain mappings."""


def _short_form(loader, suffix, node):
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        return {name: loader.construct_scalar(node)}
    if isinstance(node, yaml.SequenceNode):
        return {name: loader.construct_sequence(node, deep=True)}
    return {name: loader.construct_mapping(node, deep=True)}


CfnLoader.add_multi_constructor("!", _short_form)


def template_code(text):
    """The Ingest function's inline code, exactly as tests/emulator/server.py's hub_code reads it."""
    m = re.search(r"^( *)ZipFile: \|\n((?:\1  .*\n|\s*\n)+)", text, re.M)
    if not m:
        fail(f"no `ZipFile: |` block in {TEMPLATE}")
        done()
    return textwrap.dedent(m.group(2))


def check_code(text, write):
    want = template_code(text)
    if write:
        with open(CODE, "w", newline="") as f:
            f.write(want)
        print(f"wrote {CODE} from {TEMPLATE}'s ZipFile block")
    try:
        with open(CODE, newline="") as f:
            got = f.read()
    except FileNotFoundError:
        fail(f"{CODE} is missing; {FIX_CODE}")
        return
    if got != want:
        line = next((i for i, (a, b) in enumerate(zip(got.splitlines(True), want.splitlines(True)), 1) if a != b),
                    min(len(got.splitlines(True)), len(want.splitlines(True))) + 1)
        fail(f"{CODE} differs from {TEMPLATE}'s inline code (Ingest ZipFile) at line {line}; {FIX_CODE}")


def load_module():
    """Every .tf file's blocks: resources by (type, name), data sources, variables, outputs, locals, terraform."""
    opts = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
    mod = {"resource": {}, "data": {}, "variable": {}, "output": {}, "locals": {}, "terraform": []}
    names, before = sorted(n for n in os.listdir(MODULE) if n.endswith(".tf")), len(failures)
    for want in ("main.tf", "variables.tf", "outputs.tf", "versions.tf"):
        check(want in names, f"{MODULE}/{want} is missing")
    check(os.path.exists(f"{MODULE}/README.md"), f"{MODULE}/README.md is missing")
    for name in names:
        try:
            with open(f"{MODULE}/{name}") as f:
                doc = hcl2.load(f, serialization_options=opts)
        except Exception as e:  # lark's errors carry the line and column
            fail(f"{MODULE}/{name} does not parse as HCL: {str(e).splitlines()[0] if str(e) else type(e).__name__}")
            continue
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for rname, body in named.items():
                        mod[kind][(rtype, rname)] = body
        for kind in ("variable", "output"):
            for block in doc.get(kind, []):
                mod[kind].update(block)
        for block in doc.get("locals", []):
            mod["locals"].update(block)
        mod["terraform"] += doc.get("terraform", [])
    if len(failures) > before:  # missing or unparsable files: the comparisons below would only add noise
        done()
    return mod


def one(body, name):
    """A nested block that must appear once (python-hcl2 gives blocks as lists)."""
    blocks = body.get(name) or []
    return blocks[0] if len(blocks) == 1 else {}


def ref(expr):
    return f"${{{expr}}}"


def check_module(t, mod):
    res, props = mod["resource"], {k: v.get("Properties", {}) for k, v in t["Resources"].items()}
    params = t["Parameters"]

    def resource(rtype, name):
        body = res.get((rtype, name))
        check(body is not None, f'no resource "{rtype}" "{name}" in {MODULE}')
        return body or {}

    # The event pattern: both rules use local.event_pattern, equal to the template's Rule and ForwardRule.
    pattern = mod["locals"].get("event_pattern")
    for logical in ("Rule", "ForwardRule"):
        want = props[logical]["EventPattern"]
        check(isinstance(pattern, dict) and set(pattern) == set(want)
              and all(sorted(pattern[k]) == sorted(want[k]) for k in want),
              f"local.event_pattern {pattern} is not the template's {logical} EventPattern {want}")
    for name in ("ingest", "forward"):
        rule = resource("aws_cloudwatch_event_rule", name)
        check(rule.get("event_pattern") == ref("jsonencode(local.event_pattern)"),
              f"aws_cloudwatch_event_rule.{name}.event_pattern is {rule.get('event_pattern')!r}, not jsonencode(local.event_pattern)")
        check(rule.get("event_bus_name", "default") == props["Rule"]["EventBusName"],
              f"aws_cloudwatch_event_rule.{name} is not on the {props['Rule']['EventBusName']} bus")

    # The table: keys, their types, TTL, billing, encryption, no PITR.
    table, want = resource("aws_dynamodb_table", "hub"), props["Table"]
    keys = {k["KeyType"]: k["AttributeName"] for k in want["KeySchema"]}
    check(table.get("hash_key") == keys["HASH"] and table.get("range_key") == keys["RANGE"],
          f"the table's keys are {table.get('hash_key')}/{table.get('range_key')}, the template's {keys['HASH']}/{keys['RANGE']}")
    attrs = {a.get("name"): a.get("type") for a in table.get("attribute") or []}
    want_attrs = {a["AttributeName"]: a["AttributeType"] for a in want["AttributeDefinitions"]}
    check(attrs == want_attrs, f"the table's attributes are {attrs}, the template's {want_attrs}")
    ttl, want_ttl = one(table, "ttl"), want["TimeToLiveSpecification"]
    check(ttl.get("attribute_name") == want_ttl["AttributeName"] and ttl.get("enabled") is want_ttl["Enabled"],
          f"the table's ttl is {ttl}, the template's {want_ttl}")
    check(table.get("billing_mode") == want["BillingMode"], f"the table's billing_mode is {table.get('billing_mode')}")
    check(one(table, "server_side_encryption").get("enabled") is want["SSESpecification"]["SSEEnabled"],
          "the table's server_side_encryption is not enabled as in the template")
    check(one(table, "point_in_time_recovery").get("enabled", False)
          is want["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
          "the table's point_in_time_recovery differs from the template's")

    # The function: runtime, handler, timeout, memory, environment, and its code is index.py.
    fn, want = resource("aws_lambda_function", "ingest"), props["Ingest"]
    for tf, cfn in (("runtime", "Runtime"), ("handler", "Handler"), ("timeout", "Timeout"), ("memory_size", "MemorySize")):
        check(fn.get(tf) == want[cfn], f"aws_lambda_function.ingest.{tf} is {fn.get(tf)!r}, the template's {cfn} {want[cfn]!r}")
    env = one(fn, "environment").get("variables") or {}
    want_env = want["Environment"]["Variables"]
    check(sorted(env) == sorted(want_env), f"the function's environment has {sorted(env)}, the template's {sorted(want_env)}")
    check(env.get("TABLE") == ref("aws_dynamodb_table.hub.name"), "the function's TABLE is not the table's name")
    check(env.get("RETENTION_DAYS") in (ref("tostring(var.retention_days)"), ref("var.retention_days")),
          "the function's RETENTION_DAYS is not var.retention_days")
    zipped = mod["data"].get(("archive_file", "ingest"), {})
    check(zipped.get("source_file") == "${path.module}/index.py",
          f'data "archive_file" "ingest" does not zip ${{path.module}}/index.py (source_file {zipped.get("source_file")!r})')
    check(fn.get("filename") == ref("data.archive_file.ingest.output_path")
          and fn.get("source_code_hash") == ref("data.archive_file.ingest.output_base64sha256"),
          "the function's filename/source_code_hash are not data.archive_file.ingest's")
    policy = resource("aws_iam_role_policy", "ingest").get("policy", "")
    check("dynamodb:PutItem" in policy and "aws_dynamodb_table.hub.arn" in policy,
          "the function's role may not dynamodb:PutItem on the table")
    basic = resource("aws_iam_role_policy_attachment", "ingest_logs").get("policy_arn", "")
    check(basic.endswith(":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"),
          "the function's role lacks AWSLambdaBasicExecutionRole")

    # The target and its retry policy; the permission for EventBridge to invoke.
    target, want = resource("aws_cloudwatch_event_target", "ingest"), props["Rule"]["Targets"][0]
    retry, want_retry = one(target, "retry_policy"), want["RetryPolicy"]
    check(retry.get("maximum_retry_attempts") == want_retry["MaximumRetryAttempts"]
          and retry.get("maximum_event_age_in_seconds") == want_retry["MaximumEventAgeInSeconds"],
          f"the target's retry_policy is {retry}, the template's {want_retry}")
    check(target.get("arn") == ref("aws_lambda_function.ingest.arn"), "the rule's target is not the function")
    perm = resource("aws_lambda_permission", "ingest")
    check(perm.get("principal") == props["InvokePermission"]["Principal"]
          and perm.get("source_arn") == ref("aws_cloudwatch_event_rule.ingest.arn"),
          "the invoke permission is not for events.amazonaws.com from the rule")

    # Forwarding: only with forward_to_bus_arn, to it, through a role that may events:PutEvents on it.
    for rtype, name in (("aws_iam_role", "forward"), ("aws_iam_role_policy", "forward"),
                        ("aws_cloudwatch_event_rule", "forward"), ("aws_cloudwatch_event_target", "forward")):
        count = resource(rtype, name).get("count", "")
        check("local.forward" in count or "var.forward_to_bus_arn" in count,
              f"{rtype}.{name} is not conditional on forward_to_bus_arn (count)")
    check(mod["locals"].get("forward") == ref('var.forward_to_bus_arn != ""'),
          'local.forward is not var.forward_to_bus_arn != ""')
    fwd = resource("aws_cloudwatch_event_target", "forward")
    check(fwd.get("arn") == ref("var.forward_to_bus_arn") and fwd.get("role_arn") == ref("aws_iam_role.forward[0].arn"),
          "the forwarding target is not forward_to_bus_arn through the forwarding role")
    fpolicy = resource("aws_iam_role_policy", "forward").get("policy", "")
    check("events:PutEvents" in fpolicy and "var.forward_to_bus_arn" in fpolicy,
          "the forwarding role may not events:PutEvents on forward_to_bus_arn")

    # The parameter and the variables: the template's parameters' defaults and constraints.
    ssm = resource("aws_ssm_parameter", "table")
    check(ssm.get("name") == ref("var.parameter_name") and ssm.get("type") == props["TableParameter"]["Type"]
          and ssm.get("value") == ref("aws_dynamodb_table.hub.name"),
          f"aws_ssm_parameter.table is not a {props['TableParameter']['Type']} parameter var.parameter_name naming the table")
    var = mod["variable"]
    for tf, cfn in (("retention_days", "RetentionDays"), ("parameter_name", "ParameterName"),
                    ("forward_to_bus_arn", "ForwardToBusArn")):
        check(tf in var and var[tf].get("default") == params[cfn]["Default"],
              f"variable {tf}'s default is {var.get(tf, {}).get('default')!r}, the template's {cfn} {params[cfn]['Default']!r}")
    retention = " ".join(v.get("condition", "") for v in var.get("retention_days", {}).get("validation") or [])
    check(f">= {params['RetentionDays']['MinValue']}" in retention and f"<= {params['RetentionDays']['MaxValue']}" in retention,
          f"variable retention_days is not validated {params['RetentionDays']['MinValue']}..{params['RetentionDays']['MaxValue']}")
    name_rule = " ".join(v.get("condition", "") for v in var.get("parameter_name", {}).get("validation") or [])
    check(params["ParameterName"]["AllowedPattern"] in name_rule,
          f"variable parameter_name is not validated by {params['ParameterName']['AllowedPattern']}")
    check(var.get("name_prefix", {}).get("default") == "ecsgate-hub", "variable name_prefix's default is not ecsgate-hub")
    check("tags" in var, "no variable tags")
    outs = {"table_name", "table_arn", "parameter_name", "rule_arn", "function_name"}
    check(outs <= set(mod["output"]), f"outputs missing: {sorted(outs - set(mod['output']))}")
    tf = mod["terraform"][0] if mod["terraform"] else {}
    providers = (tf.get("required_providers") or [{}])[0]
    check(tf.get("required_version") == ">= 1.5", "versions.tf: required_version is not >= 1.5")
    check(providers.get("aws", {}).get("version") == ">= 5.0" and "archive" in providers,
          "versions.tf: required_providers is not aws >= 5.0 and archive")
    done()
    return (f"index.py = the ZipFile code, {len(pattern['detail-type'])} ECS detail-types, "
            f"{keys['HASH']}/{keys['RANGE']} TTL {ttl['attribute_name']}, {fn['runtime']} {fn['handler']} "
            f"{fn['timeout']} s {fn['memory_size']} MB, retries {retry['maximum_retry_attempts']}/"
            f"{retry['maximum_event_age_in_seconds']} s, {var['parameter_name']['default']}, "
            f"{var['retention_days']['default']} days")


def main():
    os.chdir(ROOT)
    with open(TEMPLATE) as f:
        text = f.read()
    check_code(text, "--write" in sys.argv[1:])
    summary = check_module(yaml.load(text, Loader=CfnLoader), load_module())
    done()
    print(f"ok: hub terraform module mirrors the template ({summary})")


if __name__ == "__main__":
    main()
