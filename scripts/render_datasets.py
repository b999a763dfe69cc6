#!/usr/bin/env python3
"""Reference for the SFT data formats: converts dataset records to chat messages the way their authors' tools read
them (LLaMA-Factory's alpaca/sharegpt converters and its v1 content parts, OpenAI's chat format, TRL's
prompt/completion) and renders them with Python Jinja2 configured as transformers' apply_chat_template
(scripts/render_templates.py). Written independently of the Java converters, for the Java tests to compare against.

Usage: render_datasets.py TOKENIZER_DIR FILE...   (FILE: .json array or .jsonl)
Prints one JSON line per record: {"file", "record", "messages", "tools", "supervised", "text"}, where "supervised"
lists, per assistant message in order, whether its reply is trained on.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from render_templates import load_tokenizer_config, make_environment  # noqa: E402


def read_records(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def calls_of(value):
    if isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, dict):
        value = [value]
    out = []
    for call in value:
        fn = call.get("function", call)
        out.append({"name": fn["name"], "arguments": fn.get("arguments", {})})
    return out


def content_of(content):
    """(text, reasoning or None, tool calls) of a string or a list of parts ({"type", "text" or "value"})."""
    if isinstance(content, str) or content is None:
        return content or "", None, []
    texts, thoughts, calls = [], [], []
    for part in content:
        kind = part.get("type", "text")
        value = part.get("text", part.get("value"))
        if kind == "text":
            texts.append(value)
        elif kind == "reasoning":
            thoughts.append(value)
        elif kind == "tool_call":
            calls.extend(calls_of(value))
    return "\n".join(texts), ("\n".join(thoughts) if thoughts else None), calls


def message(role, content, reasoning=None, calls=()):
    m = {"role": role, "content": content}
    if reasoning is not None:
        m["reasoning_content"] = reasoning
    if calls:
        m["tool_calls"] = list(calls)
    return m


def weight_of(m):
    for key in ("weight", "loss_weight"):
        if key in m:
            return float(m[key]) != 0
    return True


def tools_of(value):
    if not value:
        return None
    return json.loads(value) if isinstance(value, str) else value


def alpaca(r):
    msgs = []
    if r.get("system"):
        msgs.append(message("system", r["system"]))
    for q, a in r.get("history") or []:
        msgs += [message("user", q), message("assistant", a)]
    query = r["instruction"] + ("\n" + r["input"] if r.get("input") else "")
    msgs += [message("user", query), message("assistant", r["output"])]
    return msgs, None, [True] * sum(m["role"] == "assistant" for m in msgs)


def sharegpt(r):
    roles = {"human": "user", "gpt": "assistant", "system": "system", "observation": "tool", "function_call": "assistant"}
    msgs, supervised = [], []
    if r.get("system"):
        msgs.append(message("system", r["system"]))
    for turn in r["conversations"]:
        role = roles[turn["from"]]
        if turn["from"] == "function_call":
            msgs.append(message("assistant", "", calls=calls_of(turn["value"])))
        else:
            msgs.append(message(role, turn["value"]))
        if role == "assistant":
            supervised.append(weight_of(turn))
    tools = tools_of(r.get("tools"))
    if tools:
        # LLaMA-Factory's Qwen tool formatter wraps bare function schemas
        tools = [t if t.get("type") == "function" else {"type": "function", "function": t} for t in tools]
    return msgs, tools, supervised


def openai(r, completion_from=None):
    roles = {"developer": "system", "function": "tool"}
    msgs, supervised = [], []
    for i, m in enumerate(r["messages"]):
        role = roles.get(m["role"], m["role"])
        text, reasoning, calls = content_of(m.get("content"))
        for key in ("reasoning_content", "reasoning", "thinking"):
            if key in m:
                reasoning = m[key]
                break
        if m.get("tool_calls"):
            calls = calls_of(m["tool_calls"]) + calls
        if m.get("function_call"):
            calls = calls + calls_of(m["function_call"])
        msgs.append(message(role, text, reasoning, calls))
        if role == "assistant":
            supervised.append(weight_of(m) and (completion_from is None or i >= completion_from))
    tools = tools_of(r.get("tools"))
    return msgs, tools, supervised


def prompt_completion(r):
    if isinstance(r["prompt"], str):
        return [message("user", r["prompt"]), message("assistant", r["completion"])], None, [True]
    merged = dict(r, messages=r["prompt"] + r["completion"])
    return openai(merged, completion_from=len(r["prompt"]))


def convert(r):
    if "conversations" in r:
        return sharegpt(r) if "from" in r["conversations"][0] else openai(dict(r, messages=r["conversations"]))
    if "messages" in r:
        return openai(r)
    if "prompt" in r and "completion" in r:
        return prompt_completion(r)
    return alpaca(r)


def main():
    tokenizer_dir, files = sys.argv[1], sys.argv[2:]
    source, special = load_tokenizer_config(tokenizer_dir)
    template = make_environment().from_string(source)
    for path in files:
        for n, record in enumerate(read_records(path), 1):
            msgs, tools, supervised = convert(record)
            text = template.render(messages=msgs, tools=tools, documents=None, add_generation_prompt=False, **special)
            print(json.dumps({"file": os.path.basename(path), "record": n, "messages": msgs, "tools": tools,
                              "supervised": supervised, "text": text}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
