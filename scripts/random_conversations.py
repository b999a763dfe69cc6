#!/usr/bin/env python3
"""Random conversations for differential testing of the Java chat-template renderer against Python Jinja2.

Mixes the pieces that trip renderers up: think tags, special tokens, Jinja syntax inside content, emoji (ZWJ
sequences), CRLF, quotes and backslashes, null/empty/list content, tool_calls with arguments as objects and as JSON
strings, tools with odd schemas, reasoning_content of the wrong type, and enable_thinking/open_thinking of odd types.

  python3 scripts/random_conversations.py --count 24 --seed 7 >> src/test/resources/template-parity/conversations.jsonl
  python3 scripts/render_templates.py

For a larger one-off run, write the output over conversations.jsonl in a scratch copy of the fixtures folder, render
it with --fixtures/--out, and point the parity test at it (or temporarily replace the checked-in files).
"""
import argparse
import json
import random

PIECES = ["你好", "hello", " ", "\n", "\n\n", "<think>", "</think>", "<tool_call>", "😀", "👨‍👩‍👧", "\t", "'", '"',
          "\\", "{{ x }}", "{% if %}", "<|im_end|>", "<tool_response>", "</tool_response>", "  ", "é", "\r\n",
          "\u200b", "a", "1.5", "null"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prefix", default="random")
    args = parser.parse_args()
    rnd = random.Random(args.seed)

    def text(n=8):
        return "".join(rnd.choice(PIECES) for _ in range(rnd.randint(0, n)))

    def value(depth=0):
        r = rnd.random()
        if depth > 2 or r < 0.3:
            return text(4)
        if r < 0.4:
            return rnd.randint(-5, 10 ** 6)
        if r < 0.5:
            return rnd.choice([0.5, 1e-7, 3.0, 1e20, -2.25, 0.1])
        if r < 0.55:
            return rnd.choice([True, False, None])
        if r < 0.75:
            return [value(depth + 1) for _ in range(rnd.randint(0, 3))]
        return {text(3) or "k": value(depth + 1) for _ in range(rnd.randint(0, 3))}

    def tool_call():
        arguments = value() if rnd.random() < 0.5 else json.dumps(value(), ensure_ascii=rnd.random() < 0.5)
        function = {"name": text(3) or "f", "arguments": arguments}
        return {"type": "function", "function": function} if rnd.random() < 0.7 else function

    def message():
        role = rnd.choice(["user", "assistant", "assistant", "tool", "system", "user"])
        m = {"role": role}
        m["content"] = text() if rnd.random() < 0.85 else rnd.choice([None, "", [{"type": "text", "text": "x"}]])
        if role == "assistant":
            if rnd.random() < 0.3:
                m["tool_calls"] = [tool_call() for _ in range(rnd.randint(0, 3))]
            if rnd.random() < 0.2:
                m["reasoning_content"] = rnd.choice([text(), None, 5])
        return m

    for k in range(args.count):
        messages = [message() for _ in range(rnd.randint(1, 7))]
        if rnd.random() < 0.3:
            messages.insert(0, {"role": "system", "content": text()})
        tools = None
        if rnd.random() < 0.3:
            tools = [value() if rnd.random() < 0.3 else
                     {"type": "function", "function": {"name": text(2) or "t", "parameters": value()}}
                     for _ in range(rnd.randint(1, 3))]
        extra = rnd.choice([{}, {"enable_thinking": rnd.choice([True, False, "x", None])},
                            {"open_thinking": rnd.choice([True, False, 1])}])
        print(json.dumps({"name": f"{args.prefix}_{k}", "messages": messages, "tools": tools,
                          "add_generation_prompt": rnd.random() < 0.5, "extra": extra}, ensure_ascii=False))


if __name__ == "__main__":
    main()
