#!/usr/bin/env python3
"""`smolbot chat` on the synth_tiny fixture, driven through a pipe as a script would drive it.

1. The acceptance command of issue 6, exactly: printf 'hello\\n/stats\\n/quit\\n' | smolbot chat
   --model synth-tiny.gguf  -> exit 0 and a stats line (unless --quick: see below).
2. /save, /clear, /load, /save again: the two files hold the same messages; multi-line input
   (backslash continuation and a triple-quote block) arrives as one message each.
3. A second turn reuses the cache (cached tokens > 0 in /stats).
4. Bad input (unknown command, /load of a missing or malformed file) is reported and the chat
   goes on; EOF without /quit ends with status 0.
5. SIGINT during an answer stops that answer and the chat continues.

--quick (used by the sanitizer build) adds -n 32 to the acceptance command, whose default answer
of up to 1024 tokens takes minutes there. Exit 77 = skipped (smolbot or the model missing)."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

bin_dir = os.environ.get("SMOL_BIN_DIR", "build/bin")
model_dir = os.environ.get("SMOL_MODEL_DIR", "build/models")
smolbot = os.path.join(bin_dir, "smolbot")
model = os.path.join(model_dir, "synth-tiny.gguf")
if not os.access(smolbot, os.X_OK):
    print(f"SKIP: {smolbot} not built")
    sys.exit(77)
if not os.path.exists(model):
    print(f"SKIP: {model} missing (synth_tiny fixture)")
    sys.exit(77)
quick = "--quick" in sys.argv[1:]

failures = 0


def check(name, cond, detail=""):
    global failures
    if cond:
        print(f"ok   {name}")
    else:
        failures += 1
        print(f"FAIL {name} {detail}")


def chat(stdin_text, *extra, timeout=900):
    r = subprocess.run([smolbot, "chat", "--model", model, *extra], input=stdin_text.encode(),
                       capture_output=True, timeout=timeout)
    return r.returncode, r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")


STATS = re.compile(r"stats: prompt (\d+) tokens \((\d+) cached, (\d+) evaluated\).*"
                   r"context (\d+) / (\d+) tokens")

# 1. The acceptance command.
rc, out, err = chat("hello\n/stats\n/quit\n", *(["-n", "32"] if quick else []))
m = STATS.search(out)
check("piped hello /stats /quit exits 0", rc == 0, f"rc={rc} stderr={err[-500:]!r}")
check("stats line present", m is not None, f"stdout tail={out[-500:]!r}")
if m:
    check("stats: context used = prompt + generated so far", int(m.group(4)) > int(m.group(1)),
          m.group(0))

with tempfile.TemporaryDirectory() as tmp:
    first, second = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write('[{"role": "user", "content": 5}]')
    notjson = os.path.join(tmp, "notjson.json")
    with open(notjson, "w") as f:
        f.write("{oops")
    script = "\n".join([
        "/system You are terse.",
        "line one \\",
        "line two",
        '"""',
        "block a",
        "",
        "block b",
        '"""',
        "/stats",
        f"/save {first}",
        "/clear",
        "/bogus",
        f"/load {os.path.join(tmp, 'missing.json')}",
        f"/load {bad}",
        f"/load {notjson}",
        f"/load {first}",
        f"/save {second}",
    ]) + "\n"  # no /quit: EOF ends the chat
    rc, out, err = chat(script, "-n", "8", "--no-think", "--temp", "0")
    check("script exits 0 at EOF", rc == 0, f"rc={rc} stderr={err[-500:]!r}")
    check("unknown command reported", "unknown command /bogus" in err, err[-300:])
    check("missing file reported", "cannot open" in err and "missing.json" in err, err[-300:])
    check("bad message reported", "\"content\" must be a string" in err, err[-300:])
    check("malformed JSON reported", "not valid JSON" in err, err[-300:])
    stats = STATS.findall(out)
    check("second turn reuses the cache", len(stats) == 1 and int(stats[0][1]) > 0, str(stats))
    try:
        with open(first) as f:
            a = json.load(f)
        with open(second) as f:
            b = json.load(f)
    except (OSError, ValueError) as e:
        a, b = None, None
        check("saved files readable", False, str(e))
    if a is not None:
        check("save/load round trip", a == b, f"{a!r} vs {b!r}")
        roles = [x["role"] for x in a]
        check("roles", roles == ["system", "user", "assistant", "user", "assistant"], str(roles))
        users = [x["content"] for x in a if x["role"] == "user"]
        check("multi-line messages", users == ["line one \nline two", "block a\n\nblock b"],
              repr(users))
        check("system prompt saved", a[0]["content"] == "You are terse.", repr(a[0]))

# 5. Ctrl+C during an answer stops it; the chat goes on to /stats and /quit.
with tempfile.TemporaryDirectory() as tmp:
    out_path = os.path.join(tmp, "out.txt")
    with open(out_path, "wb") as out_file:
        p = subprocess.Popen([smolbot, "chat", "--model", model, "-n", "100000", "--ctx", "4096"],
                             stdin=subprocess.PIPE, stdout=out_file, stderr=subprocess.PIPE)
        p.stdin.write(b"tell me everything\n")
        p.stdin.flush()
        deadline = time.time() + 300
        while os.path.getsize(out_path) < 200 and time.time() < deadline and p.poll() is None:
            time.sleep(0.1)
        p.send_signal(signal.SIGINT)
        try:
            _, err = p.communicate(b"/stats\n/quit\n", timeout=300)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
    with open(out_path, encoding="utf-8", errors="replace") as f:
        out = f.read()
    check("SIGINT: chat exits 0", p.returncode == 0, f"rc={p.returncode} err={err[-300:]!r}")
    check("SIGINT stops the answer", "[answer stopped]" in out, out[-300:])
    check("chat continues after SIGINT", STATS.search(out) is not None, out[-300:])

print("FAILED" if failures else "all passed")
sys.exit(1 if failures else 0)
