#!/usr/bin/env python3
"""`smolbot apply-template` prints exactly what real Jinja rendered (tests/data/chat/golden-*.json).

Runs the CLI with --template (the golden's embedded template) and, when the synthetic model
fixture exists, with --model. Exit 77 = skipped (smolbot not built)."""
import json
import os
import subprocess
import sys
import tempfile

src = os.environ.get("SMOL_SOURCE_DIR", ".")
bin_dir = os.environ.get("SMOL_BIN_DIR", "build/bin")
smolbot = os.path.join(bin_dir, "smolbot")
if not os.access(smolbot, os.X_OK):
    print(f"SKIP: {smolbot} not built")
    sys.exit(77)

failures = 0


def check(name, args, want, tmp):
    global failures
    r = subprocess.run([smolbot, "apply-template", *args], capture_output=True, timeout=60)
    got = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0 or got != want:
        failures += 1
        print(f"FAIL {name}: rc={r.returncode} stderr={r.stderr.decode()[:300]!r}")
        k = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        print(f"  first difference at {k}: want {want[k:k+60]!r} got {got[k:k+60]!r}")
    else:
        print(f"ok   {name}")


with tempfile.TemporaryDirectory() as tmp:
    def write(name, obj):
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False))
        return path

    for golden_name in ("golden-smollm3.json", "golden-chatml-alt.json"):
        golden = json.load(open(os.path.join(src, "tests", "data", "chat", golden_name), encoding="utf-8"))
        template = write("t.jinja", golden["template"])
        for case in golden["cases"]:
            ctx = case["context"]
            if "expected" not in case or set(ctx) - {"messages", "add_generation_prompt",
                                                     "enable_thinking", "xml_tools",
                                                     "python_tools", "tools"}:
                continue
            args = ["--template", template, "--messages", write("m.json", ctx["messages"]),
                    "--date", "09 July 2025"]
            if not ctx.get("add_generation_prompt", False):
                args.append("--no-generation-prompt")
            if "enable_thinking" in ctx:
                args.append("--think" if ctx["enable_thinking"] else "--no-think")
            for key in ("xml_tools", "python_tools", "tools"):
                if key in ctx:
                    args += ["--" + key.replace("_", "-"), write(key + ".json", ctx[key])]
            check(f"{golden_name}:{case['name']}", args, case["expected"], tmp)

    # With a model file: the template comes from the GGUF.
    model = os.path.join(os.environ.get("SMOL_MODEL_DIR", "build/models"), "synth-tiny.gguf")
    if os.path.exists(model):
        golden = json.load(open(os.path.join(src, "tests", "data", "chat", "golden-smollm3.json"), encoding="utf-8"))
        case = golden["cases"][0]
        r = subprocess.run([smolbot, "apply-template", "--model", model, "--messages",
                            write("m.json", case["context"]["messages"]), "--date", "09 July 2025"],
                           capture_output=True, timeout=120)
        out = r.stdout.decode("utf-8", "replace")
        if r.returncode != 0 or "<|im_start|>user\nHello!<|im_end|>\n" not in out:
            failures += 1
            print(f"FAIL --model {model}: rc={r.returncode} stderr={r.stderr.decode()[:300]!r}")
        else:
            print(f"ok   --model {model}" + (" (SmolLM3 template, exact)" if out == case["expected"] else ""))
    else:
        print(f"note: {model} absent; --model path not exercised")

    # Bad input is a one-line error, not a crash.
    r = subprocess.run([smolbot, "apply-template", "--template", write("t2.jinja", "x"),
                        "--messages", write("bad.json", "{not json")], capture_output=True)
    if r.returncode != 1 or b"not valid JSON" not in r.stderr:
        failures += 1
        print(f"FAIL bad messages: rc={r.returncode} {r.stderr!r}")
    r = subprocess.run([smolbot, "apply-template", "--template", write("t3.jinja", "{% include 'x' %}"),
                        "--messages", write("m.json", [{"role": "user", "content": "hi"}])], capture_output=True)
    if r.returncode != 0 or r.stdout != b"<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" \
            or b"unsupported tag 'include'" not in r.stderr:
        failures += 1
        print(f"FAIL fallback: rc={r.returncode} {r.stdout!r} {r.stderr!r}")

print("failures:", failures)
sys.exit(1 if failures else 0)
