#!/usr/bin/python3
"""Validates YAML files against a JSON Schema, as an editor would.

    schema_check.py check-schema SCHEMA...   each is a valid draft 2020-12
                                             schema whose every property
                                             has a description
    schema_check.py validate SCHEMA FILE...  one line per file:
                                             "FILE: ok" or "FILE: invalid: why"

YAML is parsed by libyaml and read as YAML 1.2 (the core schema: true/false, decimal, 0o and 0x
integers, floats, null), which is what yaml-language-server uses by
default; a key given twice, a second document or a syntax error make the
file invalid, as they do in that editor.  Uses Debian's python3-yaml and
python3-jsonschema.
"""
import json
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.CSafeLoader):
    """libyaml's parser (the one tidewatch reads with) and the safe
    constructor, with YAML 1.2 core-schema resolution and no duplicate
    keys."""


Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _re, _first in (
        ("tag:yaml.org,2002:bool",
         r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
        ("tag:yaml.org,2002:int",
         r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
        ("tag:yaml.org,2002:float",
         r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789."),
        ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$",
         ["~", "n", "N", ""])):
    Yaml12Loader.add_implicit_resolver(_tag, re.compile(_re), list(_first))


def _int12(loader, node):
    v = loader.construct_scalar(node)
    if v.startswith("0o"):
        return int(v[2:], 8)
    if v.startswith("0x"):
        return int(v[2:], 16)
    return int(v, 10)


def _mapping(loader, node):
    seen = set()
    for k, _ in node.value:
        if isinstance(k, yaml.ScalarNode):
            if k.value in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, "duplicate key '%s'" % k.value, k.start_mark)
            seen.add(k.value)
    return loader.construct_mapping(node, deep=True)


Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _int12)
Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _mapping)


def as_json(v):
    """Mapping keys as JSON has them: strings."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if isinstance(k, bool):
                k = "true" if k else "false"
            elif k is None:
                k = ""
            out[str(k)] = as_json(x)
        return out
    if isinstance(v, list):
        return [as_json(x) for x in v]
    return v


def undescribed(schema, path="#"):
    """Paths of the properties (at any depth) without a description."""
    out = []
    if isinstance(schema, dict):
        for name, sub in schema.get("properties", {}).items():
            p = path + "/properties/" + name
            if not isinstance(sub, dict) or not sub.get("description"):
                out.append(p)
            out += undescribed(sub, p)
        for k, sub in schema.items():
            if k not in ("properties", "enum", "default", "required"):
                out += undescribed(sub, path + "/" + k)
    elif isinstance(schema, list):
        for i, sub in enumerate(schema):
            out += undescribed(sub, "%s/%d" % (path, i))
    return out


def main(argv):
    if len(argv) >= 2 and argv[0] == "check-schema":
        rc = 0
        for path in argv[1:]:
            with open(path, encoding="utf-8") as f:
                schema = json.load(f)
            try:
                jsonschema.Draft202012Validator.check_schema(schema)
            except jsonschema.exceptions.SchemaError as e:
                print("%s: not a draft 2020-12 schema: %s" % (path, e.message))
                rc = 1
            if schema.get("$schema") != \
                    "https://json-schema.org/draft/2020-12/schema":
                print("%s: $schema is not draft 2020-12" % path)
                rc = 1
            for p in undescribed(schema):
                print("%s: %s has no description" % (path, p))
                rc = 1
        return rc
    if len(argv) < 2 or argv[0] != "validate":
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    for path in argv[2:]:
        try:
            with open(path, encoding="utf-8") as f:
                doc = as_json(yaml.load(f, Loader=Yaml12Loader))
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            print("%s: invalid: YAML: %s" % (path, str(e).replace("\n", " ")))
            continue
        err = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if err is None:
            print("%s: ok" % path)
        else:
            where = "/".join(str(p) for p in err.absolute_path)
            print("%s: invalid: %s: %s" % (path, where or "(top)",
                                           err.message[:200]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
