#!/usr/bin/env python3
"""Writes the chat-template goldens that tests/chat/template_golden_test.cpp checks byte for byte.

The expected texts come from real Jinja (Debian's python3-jinja2) configured the way Hugging Face
transformers' apply_chat_template configures it: ImmutableSandboxedEnvironment with trim_blocks,
lstrip_blocks and loop controls, a `generation` tag that renders its body (transformers'
AssistantTracker without the mask bookkeeping), tojson = json.dumps(ensure_ascii=False),
raise_exception() and strftime_now() -- the latter fixed at FIXED_DATE so the goldens are stable.

Each golden file holds the template source itself, so the C++ test needs nothing outside the repo.

Usage: scripts/gen-template-golden.py [--smollm3 PATH]   (default ../shared/reference/...)
Outputs: tests/data/chat/golden-smollm3.json, golden-chatml-alt.json, golden-constructs.json
"""
import argparse
import datetime
import json
import os
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "chat")
FIXED_DATE = datetime.datetime(2025, 7, 9, 14, 30, 5)


class GenerationTag(Extension):
    """{% generation %}...{% endgeneration %} as transformers parses it: a call block whose
    macro returns caller(), so the body renders unchanged (in its own scope)."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                          sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: FIXED_DATE.strftime(fmt)
    return env


def render_case(env, source, context):
    try:
        return {"expected": env.from_string(source).render(**context)}
    except Exception as e:  # the C++ side must fail too (message wording may differ)
        return {"error": f"{type(e).__name__}: {e}"}


def conversation_context(case):
    return {k: v for k, v in case.items() if k != "name"}


# Small templates, one construct each (plus a few combinations). Contexts are JSON.
CONSTRUCTS = [
    ("text_only", "plain text\n", {}),
    ("trailing_newline_kept_once", "a\n\n", {}),
    ("crlf_normalised", "a\r\nb\rc", {}),
    ("ws_control_block", "a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}  \n  c", {}),
    ("ws_control_var", "a  {{- 'x' -}}  b", {}),
    ("ws_plus_disables_lstrip", "a\n    {%+ if true %}b{% endif %}", {}),
    ("trim_blocks_newline", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip_blocks_indent", "x\n    {% if true %}\n    y\n    {% endif %}\nz", {}),
    ("lstrip_not_after_text", "x   {% if true %}y{% endif %}", {}),
    ("comment", "a{# note #}b\n{# line comment #}\nc{#- strip -#}   d", {}),
    ("comment_indented", "a\n   {# c #}\nb", {}),
    ("raw_block", "{% raw %}{{ not evaluated }}{% endraw %}!", {}),
    ("if_elif_else", "{% for x in [1, 2, 3, 'a'] %}{% if x == 1 %}one{% elif x is number %}num{% else %}other{% endif %},{% endfor %}", {}),
    ("for_loop_vars", "{% for x in items %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }};{% endfor %}", {"items": ["a", "b", "c"]}),
    ("for_prev_next", "{% for x in [1,2,3] %}[{{ loop.previtem }}|{{ loop.nextitem }}]{% endfor %}", {}),
    ("for_cycle", "{% for x in range(5) %}{{ loop.cycle('a', 'b') }}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in undefined_var %}{% else %}also{% endfor %}", {}),
    ("for_filter", "{% for x in range(10) if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}", {}),
    ("for_unpack_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", {"d": {"b": 1, "a": [1, 2]}}),
    ("for_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"z": 1, "y": 2}}),
    ("for_string_chars", "{% for c in 'héllo' %}[{{ c }}]{% endfor %}", {}),
    ("break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 10 %}{{ x }},{% endfor %}{{ x }}", {}),
    ("if_no_scope", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}", {}),
    ("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("set_tuple", "{% set a, b = 1, 'two' %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}", {}),
    ("set_block", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}]{% set up | upper %}x{{ 1 }}{% endset %}{{ up }}", {"name": "Ann"}),
    ("macro_defaults", "{% macro greet(name, greeting='Hi', punct='!') %}{{ greeting }} {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }} {{ greet(name='C', greeting='Yo') }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}", {}),
    ("macro_sees_globals", "{% set g = 'G' %}{% macro m() %}{{ g }}{{ top }}{% endmacro %}{{ m() }}", {"top": "T"}),
    ("macro_recursive", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1) | int }}{% endif %}{% endmacro %}{{ fact(5) }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ x }}{% endcall %}", {"x": 1}),
    ("call_block_args", "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}", {}),
    ("filter_block", "{% filter upper %}shout {{ 'this' }}{% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = x %}{{ a }}{{ b }}{% endwith %}{{ a }}", {"x": 2}),
    ("str_of_containers", "{{ v }}|{{ v | string }}", {"v": [1, "a", None, True, False, 1.5, {"k": "it's", "q": "say \"hi\""}, [], {}]}),
    ("str_repr_escapes", "{{ v | string }}", {"v": ["tab\there", "nl\nx", "back\\slash", "both ' and \"", "ctl\u0001\u007f", "nbsp\u00a0zw\u200b", "é 日本 🙂"]}),
    ("tuple_repr", "{{ (1,) }} {{ (1, 'a') }} {{ () }} {{ {'a': 1}.items() | list }}", {}),
    ("float_repr", "{{ [0.1, 1.0, 1e20, 1e16, 1e15, 123456789.123, 1e-5, 0.0001, -2.5, 3e-320, 1.7976931348623157e308] }}", {}),
    ("number_printing", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 0.1 + 0.2 }} {{ 3 * 1.0 }} {{ 10 / 5 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}", {}),
    ("tojson_default", "{{ v | tojson }}", {"v": {"b": [1, 2.5, None, True], "a": "é \"q\" <tag> &", "c": {"n": 1e20}}}),
    ("tojson_indent", "{{ v | tojson(indent=2) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}", {"v": {"z": [1, {"y": []}], "x": "s"}}),
    ("tojson_options", "{{ v | tojson(sort_keys=true) }} {{ v | tojson(ensure_ascii=true) }} {{ v | tojson(separators=(',', ':')) }}", {"v": {"b": "é🙂", "a": [1, 2]}}),
    ("tojson_string_escapes", "{{ s | tojson }}", {"s": "line\nquote\" back\\ tab\t ctl\u0001 del\u007f ls\u2028"}),
    ("filters_strings", "{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Hello' | upper }}|{{ 'Hello' | lower }}|{{ 'hELLO wORLD' | capitalize }}|{{ 'hello big-world (x)' | title }}|{{ 'a-b' | replace('-', '+') }}|{{ 'aaa' | replace('a', 'b', 2) }}", {}),
    ("filters_default", "{{ missing | default('dflt') }}|{{ '' | default('e') }}|{{ '' | default('e', true) }}|{{ none | d('n') }}|{{ false | default('f', boolean=true) }}", {}),
    ("filters_length_count", "{{ 'héllo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ missing | length }}", {}),
    ("filters_join_list", "{{ [1, 'a', none] | join(', ') }}|{{ 'abc' | list }}|{{ d | list }}|{{ users | join('/', attribute='name') }}", {"d": {"k1": 1, "k2": 2}, "users": [{"name": "a"}, {"name": "b"}]}),
    ("filters_first_last", "{{ [3, 4, 5] | first }} {{ [3, 4, 5] | last }} {{ 'xyz' | first }} {{ [] | first }}.", {}),
    ("filters_items", "{{ d | items | list }} {% for k, v in d | items %}{{ k }}{{ v }}{% endfor %}", {"d": {"x": 1, "y": [2]}}),
    ("filters_numbers", "{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ -3 | abs }} {{ 2.567 | round(2) }} {{ 2.5 | round }} {{ 2.1 | round(method='ceil') }}", {}),
    ("filters_collections", "{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ [1, 2, 1, 3] | unique | list }} {{ [4, 9, 2] | max }} {{ [4, 9, 2] | min }} {{ [1, 2, 3] | sum }} {{ [1, 2] | reverse | list }} {{ 'abc' | reverse }}", {}),
    ("filters_select_map", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ msgs | rejectattr('role', 'eq', 'user') | list | length }} {{ [1, 2, 3, 4] | select('even') | list }} {{ [1, 2, 3] | reject('odd') | list }} {{ ['a', 'b'] | map('upper') | join }} {{ [0, 1, '', 'x'] | select | list }}", {"msgs": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]}),
    ("filters_misc", "{{ '<a href=\"x\">' | e }} {{ 'x' | safe }} {{ '%s-%d' | format('a', 3) }} {{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, first=true) }} {{ d | dictsort }} {{ 'one two  three' | wordcount }} {{ d | attr('b') }}", {"d": {"b": 2, "a": 1}}),
    ("string_methods", "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxaxx'.strip('x') }}|{{ '\n\nhi'.lstrip('\n') }}|{{ 'a,b,,c'.split(',') }}|{{ '  a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'Hello'.startswith('He') }}|{{ 'Hello'.endswith(('x', 'lo')) }}|{{ 'MiXed'.upper() }}{{ 'MiXed'.lower() }}|{{ 'hello world 1st'.title() }}|{{ 'abc'.replace('b', 'B') }}|{{ '{} and {name}'.format(1, name='n') }}|{{ ', '.join(['a', 'b']) }}|{{ 'abcb'.find('b') }} {{ 'abcb'.count('b') }} {{ 'abc'.capitalize() }}", {"s": "  padded \n"}),
    ("string_method_chain", "{{ 'Hi /think there /no_think'.replace('/no_think', '').replace('/think', '').rstrip() }}|", {}),
    ("dict_methods", "{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }} {{ d['a'] }} {{ d.a }}", {"d": {"a": 1, "b": "two"}}),
    ("dict_attr_vs_key", "{{ d.keys is defined }} {{ d['keys'] }} {{ d.name }}", {"d": {"keys": "the key", "name": "n"}}),
    ("tests", "{{ x is defined }} {{ y is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ 1.5 is float }} {{ 1 is integer }} {{ true is integer }} {{ true is boolean }} {{ true is true }} {{ 0 is false }} {{ d is mapping }} {{ l is mapping }} {{ l is iterable }} {{ 'x' is iterable }} {{ 1 is iterable }} {{ l is sequence }} {{ d is sequence }} {{ range is callable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 'a' is lower }} {{ 'A' is upper }} {{ 2 is in [1, 2] }} {{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ none is sameas none }} {{ x is not none }}", {"x": 1, "d": {}, "l": [1]}),
    ("operators", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in d }} {{ 'z' not in d }} {{ 'a' ~ 1 ~ none ~ missing }} {{ 'ab' + 'cd' }} {{ [1] + [2] }} {{ 'ab' * 3 }} {{ [0] * 2 }} {{ 3 - 5 }} {{ -x }} {{ 1 < 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2.0 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ not true }} {{ not [] }} {{ '%s!' % 'hi' }} {{ '%s %s' % ('a', 'b') }}", {"d": {"k": 1}, "x": 4}),
    ("and_or_values", "{{ 0 or 'b' }} {{ 'a' or 'b' }} {{ 0 and 'b' }} {{ 'a' and 'b' }} {{ none or [] }} {{ missing or 'fallback' }}", {}),
    ("ternary", "{{ 'yes' if x else 'no' }} {{ 'yes' if y else 'no' }} [{{ 'only' if y }}] {{ 1 if false else 2 if false else 3 }}", {"x": 1, "y": 0}),
    ("subscripts_slices", "{{ l[0] }} {{ l[-1] }} {{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[5:] }} {{ 'hello'[1:3] }} {{ 'héllo'[::-1] }} {{ l[10] is defined }} {{ l.0 }} {{ d['a']['b'] }} {{ d.a.b }}", {"l": [1, 2, 3, 4], "d": {"a": {"b": "deep"}}}),
    ("literals", "{{ [1, 'two', [3]] }} {{ {'a': 1, 'b': {'c': none}} }} {{ 'single' }} {{ \"double\" }} {{ 'esc\\'aped\\n' }} {{ 'adj' 'acent' }} {{ 1_000 }} {{ 1.5e3 }} {{ True }} {{ None }}", {}),
    ("string_escapes_unicode", "{{ '\\u00e9\\x41\\t|\\U0001F642|\\101' }}", {}),
    ("undefined_printing", "[{{ missing }}][{{ d.nokey }}][{{ l[9] }}][{{ missing | string }}]", {"d": {}, "l": []}),
    ("undefined_in_and_iter", "{{ 'a' in missing }} {% for x in missing %}x{% endfor %}{{ missing | length }} {{ missing is string }}", {}),
    ("none_values", "{{ v }} {{ v is none }} {{ v | string }} {{ v | tojson }} {{ [v] }}", {"v": None}),
    ("generation_tag", "{% for m in ms %}{% generation %}<{{ m }}>{% set inner = m %}{% endgeneration %}{% endfor %}[{{ inner }}]", {"ms": ["a", "b"]}),
    ("strftime_now", "{{ strftime_now('%d %B %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A %a %b %j') }}", {}),
    ("range_global", "{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }}", {}),
    ("dict_global", "{{ dict(a=1, b='x') }}", {}),
    ("messages_loop_like_chatml", "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}", {"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": True}),
    ("raise_exception", "{% if x != 1 %}{{ raise_exception('x must be 1') }}{% endif %}ok", {"x": 2}),
    ("error_attr_of_undefined", "{{ missing.attr }}", {}),
    ("error_add_str_int", "{{ 'a' + 1 }}", {}),
    ("error_division_by_zero", "{{ 1 / 0 }}", {}),
    ("error_call_undefined_method", "{{ missing.strip() }}", {}),
    ("error_compare_types", "{{ 'a' < 1 }}", {}),
]


def write(path, payload):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)} ({len(payload['cases'])} cases)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smollm3", default=os.path.join(ROOT, "..", "shared", "reference",
                                                      "smollm3-chat-template.jinja"))
    args = ap.parse_args()
    env = make_env()
    header = {"generator": "scripts/gen-template-golden.py", "jinja2_version": jinja2.__version__,
              "date": FIXED_DATE.isoformat()}

    with open(os.path.join(DATA, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    sources = {"chatml-alt": open(os.path.join(DATA, "chatml-alt.jinja"), encoding="utf-8").read()}
    if os.path.exists(args.smollm3):
        sources["smollm3"] = open(args.smollm3, encoding="utf-8").read()
    else:
        print(f"note: {args.smollm3} not found; golden-smollm3.json left as is", file=sys.stderr)

    for name, source in sources.items():
        cases = []
        for conv in conversations:
            ctx = conversation_context(conv)
            cases.append({"name": conv["name"], "context": ctx, **render_case(env, source, ctx)})
        write(os.path.join(DATA, f"golden-{name}.json"), {**header, "template": source, "cases": cases})

    cases = []
    for name, source, ctx in CONSTRUCTS:
        cases.append({"name": name, "template": source, "context": ctx, **render_case(env, source, ctx)})
    write(os.path.join(DATA, "golden-constructs.json"), {**header, "cases": cases})


if __name__ == "__main__":
    main()
