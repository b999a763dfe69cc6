"""Renders minimind4j's chat template the way transformers does and checks the text it produces.

usage: python3 check_chat_template.py OUR_TOKENIZER_CONFIG.json [MINIMIND2_TOKENIZER_CONFIG.json]

transformers renders chat templates in a sandboxed jinja2 environment with trim_blocks, lstrip_blocks and the
loopcontrols extension, and replaces the tojson filter with json.dumps(ensure_ascii=False); this script does the same.
With a second file, conversations that carry a system message and no tools must render exactly as MiniMind2's
own template renders them.
"""
import json
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env.from_string(source)


def load(path):
    with open(path, encoding="utf-8") as f:
        return compile_template(json.load(f)["chat_template"])


WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}

CASES = [
    ("one turn, no system: nothing injected",
     dict(messages=[{"role": "user", "content": "What is 3 plus 4?"},
                    {"role": "assistant", "content": "3 plus 4 is 7."}]),
     "<|im_start|>user\nWhat is 3 plus 4?<|im_end|>\n<|im_start|>assistant\n3 plus 4 is 7.<|im_end|>\n"),
    ("system and generation prompt",
     dict(messages=[{"role": "system", "content": "Answer briefly."},
                    {"role": "user", "content": "你好"}], add_generation_prompt=True),
     "<|im_start|>system\nAnswer briefly.<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n"),
    ("multi-turn",
     dict(messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                    {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"}]),
     "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nb<|im_end|>\n"
     "<|im_start|>user\nc<|im_end|>\n<|im_start|>assistant\nd<|im_end|>\n"),
    ("tools block in the system turn, tool calls, grouped tool responses",
     dict(messages=[{"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "Weather in 北京 and Paris?"},
                    {"role": "assistant", "content": None, "tool_calls": [
                        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京"}}},
                        {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                    {"role": "tool", "content": "sunny"},
                    {"role": "tool", "content": "rain"},
                    {"role": "assistant", "content": "北京 is sunny, Paris has rain."}],
          tools=[WEATHER_TOOL], add_generation_prompt=False),
     "<|im_start|>system\nBe brief.\n\n# Tools\n\n"
     "You can call the functions whose JSON signatures are listed inside <tools></tools>:\n<tools>\n"
     + json.dumps(WEATHER_TOOL, ensure_ascii=False) + "\n</tools>\n\n"
     "To call one, reply with a JSON object holding its name and arguments inside <tool_call></tool_call>:\n"
     "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
     "<|im_start|>user\nWeather in 北京 and Paris?<|im_end|>\n"
     "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\"}}\n</tool_call>\n"
     "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call><|im_end|>\n"
     "<|im_start|>user\n<tool_response>\nsunny\n</tool_response>\n<tool_response>\nrain\n</tool_response><|im_end|>\n"
     "<|im_start|>assistant\n北京 is sunny, Paris has rain.<|im_end|>\n"),
    ("tools without a system message; text before a call; bare (name, arguments) call",
     dict(messages=[{"role": "user", "content": "hi"},
                    {"role": "assistant", "content": "Let me look.",
                     "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]},
                    {"role": "tool", "content": "snow"}],
          tools=[WEATHER_TOOL], add_generation_prompt=True),
     "<|im_start|>system\n# Tools\n\n"
     "You can call the functions whose JSON signatures are listed inside <tools></tools>:\n<tools>\n"
     + json.dumps(WEATHER_TOOL, ensure_ascii=False) + "\n</tools>\n\n"
     "To call one, reply with a JSON object holding its name and arguments inside <tool_call></tool_call>:\n"
     "<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n"
     "<|im_start|>user\nhi<|im_end|>\n"
     "<|im_start|>assistant\nLet me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n"
     "<|im_start|>user\n<tool_response>\nsnow\n</tool_response><|im_end|>\n"
     "<|im_start|>assistant\n"),
    ("a later system message is an ordinary turn; empty messages render nothing",
     dict(messages=[{"role": "user", "content": "x"}, {"role": "system", "content": "y"}]),
     "<|im_start|>user\nx<|im_end|>\n<|im_start|>system\ny<|im_end|>\n"),
    ("no messages", dict(messages=[], add_generation_prompt=True), "<|im_start|>assistant\n"),
]

SAME_AS_MINIMIND2 = [
    [{"role": "system", "content": "你是一个优秀的聊天机器人，总是给我正确的回应！"},
     {"role": "user", "content": "你来自哪里？"}, {"role": "assistant", "content": "我来自月球"},
     {"role": "user", "content": "你到底来自哪里？"}, {"role": "assistant", "content": "我来自地球"}],
    [{"role": "system", "content": "s"}, {"role": "user", "content": "q"},
     {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}]},
     {"role": "tool", "content": "r1"}, {"role": "tool", "content": "r2"}, {"role": "assistant", "content": "done"}],
]


def main():
    ours = load(sys.argv[1])
    failures = 0
    for name, kwargs, expected in CASES:
        got = ours.render(**kwargs)
        if got != expected:
            failures += 1
            print(f"FAIL {name}\n  expected {expected!r}\n  got      {got!r}")
    if len(sys.argv) > 2:
        minimind2 = load(sys.argv[2])
        for messages in SAME_AS_MINIMIND2:
            for gen in (False, True):
                a = ours.render(messages=messages, add_generation_prompt=gen)
                b = minimind2.render(messages=messages, add_generation_prompt=gen)
                if a != b:
                    failures += 1
                    print(f"FAIL differs from MiniMind2's template\n  ours      {a!r}\n  minimind2 {b!r}")
    print(f"{len(CASES)} cases, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
