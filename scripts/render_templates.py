#!/usr/bin/env python3
"""Render the template-parity fixtures with Python Jinja2 configured as Hugging Face transformers'
apply_chat_template configures it, and write the expected outputs the Java tests compare against.

transformers (utils/chat_template_utils.py) builds an ImmutableSandboxedEnvironment with trim_blocks,
lstrip_blocks and the loopcontrols extension, replaces the `tojson` filter with json.dumps(ensure_ascii=False, ...),
and adds the globals `raise_exception` and `strftime_now`. It renders with messages, tools (None when absent),
documents (None), add_generation_prompt, the tokenizer's special_tokens_map and the caller's extra kwargs.
The `{% generation %}` tag of its AssistantTracker extension is provided here as a plain pass-through block.

Inputs (in --fixtures):
  conversations.jsonl  {"name", "messages", "tools", "add_generation_prompt", "extra"} per line
  features.jsonl       {"name", "template", "context"} per line: small templates for single interpreter features
Outputs (in --out, default the fixtures folder):
  expected-minimind3.jsonl, expected-minimind2.jsonl   one line per conversation, same order
  expected-features.jsonl                             one line per feature case, same order
Each output line is {"name": ..., "output": "..."} or, when Jinja raised, {"name": ..., "error": {"type", "message"}}
(plus "line" for syntax errors).

Needs Python 3 and jinja2 >= 3.1; no transformers install is needed.
"""
import argparse
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment


class GenerationBlock(jinja2.ext.Extension):
    """transformers' {% generation %} tag without the index tracking: renders its body unchanged."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render_body"), [], [], body).set_lineno(lineno)

    def _render_body(self, caller):
        return caller()


def make_environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationBlock, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token_content(token):
    """tokenizer_config.json holds a special token as a string or as an AddedToken object {"content": ...}."""
    if isinstance(token, dict):
        return token.get("content")
    return token


def load_tokenizer_config(directory):
    with open(os.path.join(directory, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    template = config["chat_template"]
    if isinstance(template, list):
        template = next(t["template"] for t in template if t["name"] == "default")
    # transformers' special_tokens_map: only the attributes that are set (non-empty)
    special = {}
    for key in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
        value = token_content(config.get(key))
        if value:
            special[key] = value
    additional = [token_content(t) for t in config.get("additional_special_tokens") or []]
    if additional:
        special["additional_special_tokens"] = additional
    return template, special


def render_case(render, name):
    try:
        return {"name": name, "output": render()}
    except Exception as e:  # the Java side must fail on the same cases
        error = {"type": type(e).__name__, "message": str(e)}
        if isinstance(e, jinja2.exceptions.TemplateSyntaxError):
            error["line"] = e.lineno
        return {"name": name, "error": error}


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    reference = os.path.join(repo, "src", "test", "resources", "minimind")
    fixtures_default = os.path.join(repo, "src", "test", "resources", "template-parity")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=fixtures_default)
    parser.add_argument("--minimind3", default=os.path.join(reference, "minimind3"), help="folder with minimind-3's tokenizer_config.json")
    parser.add_argument("--minimind2", default=os.path.join(reference, "minimind2"),
                        help="folder with MiniMind2's tokenizer_config.json")
    parser.add_argument("--out", default=None, help="output folder (default: the fixtures folder)")
    args = parser.parse_args()
    out = args.out or args.fixtures
    os.makedirs(out, exist_ok=True)
    env = make_environment()

    conversations = read_jsonl(os.path.join(args.fixtures, "conversations.jsonl"))
    for label, directory in (("minimind3", args.minimind3), ("minimind2", args.minimind2)):
        source, special = load_tokenizer_config(directory)
        template = env.from_string(source)
        rows = []
        for case in conversations:
            context = dict(messages=case["messages"], tools=case.get("tools"), documents=None,
                           add_generation_prompt=case["add_generation_prompt"], **special)
            context.update(case.get("extra") or {})
            rows.append(render_case(lambda: template.render(**context), case["name"]))
        write_jsonl(os.path.join(out, f"expected-{label}.jsonl"), rows)

    rows = []
    for case in read_jsonl(os.path.join(args.fixtures, "features.jsonl")):
        rows.append(render_case(lambda: env.from_string(case["template"]).render(**(case.get("context") or {})),
                                case["name"]))
    write_jsonl(os.path.join(out, "expected-features.jsonl"), rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
