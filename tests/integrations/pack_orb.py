#!/usr/bin/env python3
"""Packs an orb-tools source tree (orb/src) into one orb YAML, as `circleci orb pack` does:
@orb.yml at the top, each file of commands/, jobs/, executors/ and examples/ under its name, and
`<<include(path)>>` values replaced by the file's text. Usage: pack_orb.py orb/src > orb.yml
"""
import os
import re
import sys

from ruamel.yaml import YAML

INCLUDE = re.compile(r"^<<include\(([^)]+)\)>>$")


def resolve(node, src):
    if isinstance(node, dict):
        return {k: resolve(v, src) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, src) for v in node]
    if isinstance(node, str):
        m = INCLUDE.match(node.strip())
        if m:
            with open(os.path.join(src, m.group(1))) as f:
                return f.read()
    return node


def main():
    src = sys.argv[1]
    yaml = YAML(typ="safe")
    with open(os.path.join(src, "@orb.yml")) as f:
        orb = yaml.load(f)
    for section in ("commands", "jobs", "executors", "examples"):
        d = os.path.join(src, section)
        if not os.path.isdir(d):
            continue
        orb[section] = {}
        for name in sorted(os.listdir(d)):
            if name.endswith((".yml", ".yaml")):
                with open(os.path.join(d, name)) as f:
                    orb[section][os.path.splitext(name)[0]] = yaml.load(f)
    orb = resolve(orb, src)
    out = YAML()
    out.default_flow_style = False
    out.dump(orb, sys.stdout)


if __name__ == "__main__":
    main()
