#!/usr/bin/env python3
"""The documentation matches the code: every shipped rule is in docs/rules.md (and
its generated table is current); every option README.md uses exists in that
command's --help; every option of every --help is in the man page, which renders
without warnings; the bash and zsh completions load, complete, and know every
option; --version names the commit and the libraries; the include rules of
docs/architecture.md hold (modules, public and private headers); no descriptor is
closed by hand outside util/; relative links in the docs resolve; `cmake --install`
installs the binary, the rules, the man page, the docs and the completions."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2elib  # noqa: E402
from e2elib import describe  # noqa: E402

s = e2elib.Suite(__doc__)
REPO = e2elib.REPO
DOCS = os.path.join(REPO, "docs")
MAN = os.path.join(DOCS, "cdrift.1")
BASH_COMPLETION = os.path.join(REPO, "scripts", "completions", "cdrift.bash")
ZSH_COMPLETION = os.path.join(REPO, "scripts", "completions", "_cdrift")
GEN_RULES_DOC = os.path.join(REPO, "scripts", "gen-rules-doc.py")

# Every command path the CLI has; each is checked against its --help below.
COMMANDS = [(), ("manifest",), ("audit",), ("diff",), ("baseline",), ("rules",), ("rules", "list"),
            ("rules", "lint"), ("rules", "test"), ("cache",), ("cache", "prune")]


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def sh(cmd, timeout=60, env=None, cwd=None):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout,
                              env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(cmd, -999, b"", b"TIMEOUT after %ds" % timeout)


def out(r):
    return r.stdout.decode(errors="replace")


def err(r):
    return r.stderr.decode(errors="replace")


# --- --help, parsed -------------------------------------------------------------

HELP = {}


def help_of(cmd):
    if cmd not in HELP:
        r = s.run(*cmd, "--help")
        HELP[cmd] = (r.returncode, out(r))
    return HELP[cmd]


def help_options(cmd):
    """Options listed under "Options:" of `cdrift CMD --help` (long and short)."""
    _, text = help_of(cmd)
    opts = set()
    section = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
            continue
        if section != "Options":
            continue
        m = re.match(r"^  (-[-\w,]+)", line)
        if m:
            for o in m.group(1).split(","):
                if o.startswith("-"):
                    opts.add(o)
    return opts


def help_subcommands(cmd):
    _, text = help_of(cmd)
    subs = []
    section = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
            continue
        m = re.match(r"^  (\w[\w-]*)\s", line)
        if section == "Subcommands" and m:
            subs.append(m.group(1))
    return subs


for cmd in COMMANDS:
    rc, text = help_of(cmd)
    s.check("help: cdrift %s --help exits 0 with a usage line" % " ".join(cmd),
            rc == 0 and "Usage:" in text, "exit %s" % rc)
s.check("help: the commands are exactly the documented ones",
        help_subcommands(()) == ["manifest", "audit", "diff", "baseline", "rules", "cache"], str(help_subcommands(())))
s.check("help: rules has list, lint, test", help_subcommands(("rules",)) == ["list", "lint", "test"])
s.check("help: cache has prune", help_subcommands(("cache",)) == ["prune"])
s.check("help: exit codes are in --help", all(f in help_of(())[1] for f in ("0 no drift", "1 drift", "2 usage", "3 input")))

# --- rules --------------------------------------------------------------------

sys.path.insert(0, os.path.join(REPO, "scripts"))
rule_ids = []
rule_problem = ""
try:
    import importlib.util
    spec = importlib.util.spec_from_file_location("gen_rules_doc", GEN_RULES_DOC)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    rule_ids = [r["id"] for _, r in gen.load_rules(os.path.join(REPO, "rules"))]
except Exception as e:  # noqa: BLE001 - any failure here is the check's failure
    rule_problem = repr(e)
rules_md = read(os.path.join(DOCS, "rules.md"))
s.check("rules: rule files parse", rule_ids and not rule_problem, rule_problem)
missing = [i for i in rule_ids if not re.search(r"\b%s\b" % re.escape(i), rules_md)]
s.check("rules: every rule id in rules/*.json appears in docs/rules.md (%d rules)" % len(rule_ids),
        not missing, "missing: " + ", ".join(missing[:20]))
r = sh([sys.executable, GEN_RULES_DOC, "--check"])
s.check("rules: scripts/gen-rules-doc.py --check: the generated table is current", r.returncode == 0, err(r))

# The CLI lists the same rules as the files hold.
r = s.run("rules", "list")
listed = re.findall(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\s", out(r), re.M)
s.check("rules: `cdrift rules list` lists exactly the rule ids of rules/*.json",
        r.returncode == 0 and sorted(listed) == sorted(rule_ids),
        describe(r) + " only in list: %s; only in files: %s" % (sorted(set(listed) - set(rule_ids))[:5],
                                                              sorted(set(rule_ids) - set(listed))[:5]))

# The generator really detects a stale table, and rewrites it.
with tempfile.TemporaryDirectory() as tmp:
    doc = os.path.join(tmp, "rules.md")
    shutil.copy(os.path.join(DOCS, "rules.md"), doc)
    text = read(doc)
    first = rule_ids[0] if rule_ids else "CDR-X"
    with open(doc, "w", encoding="utf-8") as f:
        f.write(text.replace("| %s |" % first, "| %s-STALE |" % first, 1))
    r1 = sh([sys.executable, GEN_RULES_DOC, "--check", "--doc", doc])
    r2 = sh([sys.executable, GEN_RULES_DOC, "--doc", doc])
    s.check("rules: gen-rules-doc --check fails on a stale table and a rerun repairs it exactly",
            r1.returncode == 1 and r2.returncode == 0 and read(doc) == text,
            "check exit %s, regen exit %s" % (r1.returncode, r2.returncode))

# --- README ---------------------------------------------------------------------

readme = read(os.path.join(REPO, "README.md"))


def cdrift_command_lines(text):
    """`cdrift ...` command lines: in code blocks (continuations joined) and inline code."""
    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0]
            for part in re.split(r"[|;]|&&", line):
                part = part.strip()
                if part.startswith("$ "):
                    part = part[2:]
                if part.startswith("cdrift "):
                    lines.append(part)
    for span in re.findall(r"`(cdrift [^`]+)`", text):
        lines.append(span)
    return lines


def command_of(words):
    """(command path, options) of a `cdrift ...` line split into words."""
    cmd = []
    for w in words[1:]:
        if w.startswith("-") or w in ("…", "..."):
            break
        if not cmd and w in ("manifest", "audit", "diff", "baseline", "rules", "cache"):
            cmd.append(w)
        elif cmd and cmd[0] in ("rules", "cache") and len(cmd) == 1 and w in ("list", "lint", "test", "prune"):
            cmd.append(w)
        else:
            break
    return tuple(cmd), [w.split("=")[0] for w in words if re.match(r"^--?[a-zA-Z]", w)]


readme_lines = cdrift_command_lines(readme)
s.check("readme: has cdrift command lines to check (%d)" % len(readme_lines), len(readme_lines) >= 10)
bad = []
for line in readme_lines:
    cmd, opts = command_of(line.split())
    if cmd == ("rules",) or cmd == ("cache",):
        bad.append("%s: incomplete command" % line)
        continue
    known = help_options(cmd)
    for o in opts:
        if o not in known:
            bad.append("%s: %s not in `cdrift %s --help`" % (line, o, " ".join(cmd)))
s.check("readme: every option README.md uses is in that command's --help", not bad, "; ".join(bad[:8]))

bad = []
for line in readme_lines:
    for m in re.finditer(r"--disable-rule\s+(\S+)", line):
        if m.group(1) not in rule_ids:
            bad.append(m.group(1))
s.check("readme: rule ids README.md passes to --disable-rule exist", not bad, "unknown ids: " + ", ".join(bad))

commands_in_readme = {command_of(line.split())[0] for line in readme_lines}
want = {("audit",), ("manifest",), ("diff",), ("baseline",), ("rules", "list"), ("rules", "lint"),
        ("rules", "test")}
s.check("readme: shows audit, manifest, diff, baseline and rules list|lint|test",
        want <= commands_in_readme, "missing: %s" % sorted(want - commands_in_readme))
s.check("readme: quick start is scripts/demo.sh and scripts/test.sh",
        "scripts/demo.sh" in readme and "scripts/test.sh" in readme)
s.check("readme: documents the four exit codes",
        all(re.search(r"^\| %d \|" % c, readme, re.M) for c in range(4)))

# --- man page -------------------------------------------------------------------

man_src = read(MAN)
# The roff source as plain words: \- is a hyphen, font escapes and \& vanish.
man_plain = re.sub(r"\\f[BIRP]|\\&|\\c", "", man_src.replace("\\-", "-"))


def man_section(title):
    """Text of the .SS section with this title (up to the next .SS or .SH)."""
    m = re.search(r'^\.SS "?%s"?\n(.*?)(?=^\.S[SH] )' % re.escape(title), man_plain, re.S | re.M)
    return m.group(1) if m else None


bad = []
for cmd in COMMANDS:
    if cmd in (("rules",), ("cache",)):
        continue
    title = "cdrift " + " ".join(cmd) if cmd else "Global options"
    section = man_section(title)
    if section is None:
        bad.append('no section "%s"' % title)
        continue
    for o in sorted(help_options(cmd)):
        if o in ("-h", "--help") and cmd:
            continue  # documented once, under Global options
        if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), section):
            bad.append("%s: %s" % (title, o))
s.check("man: every option of every `cdrift COMMAND --help` is in its section of docs/cdrift.1",
        not bad, "missing: " + "; ".join(bad[:10]))

env_section = re.search(r"^\.SH ENVIRONMENT\n(.*?)^\.SH ", man_plain, re.S | re.M)
env_section = env_section.group(1) if env_section else ""
# The variables named by the .TP tags of ENVIRONMENT.
env_names = set(re.findall(r"\b[A-Z][A-Z_]{2,}\b", " ".join(re.findall(r"^\.BR? (.*)$", env_section, re.M))))
bad = [v for v in ("NO_COLOR", "XDG_CACHE_HOME", "DOCKER_HOST", "CONTAINER_HOST", "CDRIFT_RULES_DIR", "TMPDIR")
       if v not in env_names]
# ...and every variable the code reads.
for src in glob.glob(os.path.join(REPO, "src", "**", "*.cpp"), recursive=True):
    if os.sep + "fuzz" + os.sep in src:
        continue
    for v in re.findall(r'getenv\("([A-Z_]+)"\)', read(src)):
        if v not in env_names and v not in bad:
            bad.append(v)
s.check("man: ENVIRONMENT names every variable cdrift reads", not bad, "missing: " + ", ".join(bad))
s.check("man: EXIT STATUS, FILES, EXAMPLES sections",
        all(re.search(r"^\.SH %s" % t, man_src, re.M) for t in ("EXIT STATUS", "FILES", "EXAMPLES", "ENVIRONMENT")))
bad = [f for f in (".cdriftignore.json", "XDG_CACHE_HOME/cdrift", "share/cdrift/rules") if f not in man_plain]
s.check("man: FILES names the cache, the ignore file and the rules dir", not bad, ", ".join(bad))

# Examples in the man page use real options too.
bad = []
for block in re.findall(r"^\.nf\n(.*?)^\.fi", man_plain, re.S | re.M):
    joined = re.sub(r"\\e\n\s*", " ", block)
    for line in joined.splitlines():
        line = line.strip()
        if not line.startswith("cdrift "):
            continue
        cmd, opts = command_of(line.split())
        for o in opts:
            if o not in help_options(cmd):
                bad.append("%s: %s" % (line, o))
s.check("man: every option in EXAMPLES exists", not bad, "; ".join(bad[:5]))

if shutil.which("man"):
    r = sh(["man", "--warnings", "-l", MAN], env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MANPAGER="cat",
                                                       PAGER="cat"))
    rendered = out(r)
    s.check("man: `man --warnings -l docs/cdrift.1` renders without warnings",
            r.returncode == 0 and not err(r).strip() and "cdrift audit" in rendered, describe(r))
else:
    s.skip("man: render with man --warnings", "man not installed: add man-db to scripts/deps.sh")
if shutil.which("groff"):
    r = sh(["groff", "-man", "-ww", "-z", MAN])
    s.check("man: `groff -man -ww -z` reports nothing", r.returncode == 0 and not err(r).strip(), describe(r))
else:
    s.skip("man: groff -ww", "groff not installed: add groff-base to scripts/deps.sh")

# --- completions ----------------------------------------------------------------

r = sh(["bash", "-n", BASH_COMPLETION])
s.check("bash completion: bash -n", r.returncode == 0, err(r))
r = sh(["bash", "-c", 'source "$1" && complete -p cdrift', "bash", BASH_COMPLETION])
s.check("bash completion: loads and registers `complete -F _cdrift cdrift`",
        r.returncode == 0 and "-F _cdrift" in out(r) and not err(r).strip(), describe(r))

BASH_HARNESS = r'''
source "$1"; shift
for line in "$@"; do
  COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
  _cdrift
  printf '%s\n' "${COMPREPLY[*]}"
done
'''


def bash_complete(lines, path_prefix=None, cwd=None):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(s.cdrift) + os.pathsep + env.get("PATH", "")
    if path_prefix:
        env["PATH"] = path_prefix + os.pathsep + env["PATH"]
    r = sh(["bash", "-c", BASH_HARNESS, "bash", BASH_COMPLETION] + lines, env=env, cwd=cwd or s.fx, timeout=30)
    got = out(r).split("\n")
    return r, [g.split() for g in got[:len(lines)]]


cases = [
    ("cdrift ", ["manifest", "audit", "diff", "baseline", "rules", "cache"]),
    ("cdrift au", ["audit"]),
    ("cdrift rules ", ["list", "lint", "test"]),
    ("cdrift cache ", ["prune"]),
    ("cdrift audit --fail-on ", ["critical", "high", "medium", "low", "info", "never"]),
    ("cdrift audit --min-severity ", ["critical", "high", "medium", "low", "info"]),
    ("cdrift audit --format ", ["text", "json", "sarif", "jsonl"]),
    ("cdrift manifest --format ", ["jsonl", "mtree"]),
    ("cdrift diff --format ", ["text", "json"]),
    ("cdrift audit --color ", ["auto", "always", "never"]),
    ("cdrift audit --runtime ", ["docker", "podman", "nerdctl", "containerd"]),
    ("cdrift audit --format=js", ["json", "jsonl"]),  # bash replaces only the part after '='
    ("cdrift audit --image oci-archive.t", ["oci-archive.tar"]),
    ("cdrift audit --image oci-archive:oci-archive.t", ["oci-archive.tar"]),  # ...and after ':'
    ("cdrift audit -o", []),  # audit has no -o
    ("cdrift baseline -o", ["-o"]),
    ("cdrift rules list --r", ["--rules"]),
]
r, got = bash_complete([c[0] for c in cases])
for (line, want), g in zip(cases, got):
    s.check("bash completion: %r -> %s" % (line, " ".join(want) or "nothing"), sorted(g) == sorted(want),
            "got %s (%s)" % (g, err(r)[:200]))
r, got = bash_complete(["cdrift audit --disable-rule CDR-ACCT-00"])
s.check("bash completion: --disable-rule completes rule ids from `cdrift rules list`",
        got and got[0] and all(g.startswith("CDR-ACCT-00") and g in rule_ids for g in got[0]), str(got))
r, got = bash_complete(["cdrift audit --container containers/export-tamp"])
s.check("bash completion: --container completes files",
        got == [["containers/export-tampered.tar"]], str(got))

# Every option of every command is offered.
bad = []
for cmd in COMMANDS:
    r, got = bash_complete(["cdrift %s -" % " ".join(cmd) if cmd else "cdrift -"])
    offered = set(got[0]) if got else set()
    for o in help_options(cmd):
        if o not in offered:
            bad.append("%s %s" % (" ".join(cmd) or "(top)", o))
s.check("bash completion: offers every option of every `cdrift COMMAND --help`", not bad, "; ".join(bad[:10]))

# docker: names come from `docker ps`, only when docker is on PATH, and a hung daemon
# does not hang the shell.
fake = os.path.join(s.work, "fakebin")
slow = os.path.join(s.work, "slowbin")
for d, body in ((fake, 'if [ "$1" = ps ]; then printf "web\\nwebdb\\napi\\n"; fi\n'), (slow, "sleep 20\n")):
    os.makedirs(d, exist_ok=True)
    for rt in ("docker", "podman"):
        p = os.path.join(d, rt)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(p, 0o755)
r, got = bash_complete(["cdrift audit --container docker:we", "cdrift audit --container=podman:"], path_prefix=fake)
s.check("bash completion: docker:/podman: complete container names from `ps`",
        got == [["web", "webdb"], ["web", "webdb", "api"]], "%s %s" % (got, err(r)[:200]))
t0 = time.monotonic()
r, got = bash_complete(["cdrift audit --container docker:"], path_prefix=slow)
elapsed = time.monotonic() - t0
s.check("bash completion: a runtime that does not answer costs at most ~2 s (took %.1f s)" % elapsed,
        elapsed < 8 and got == [[]], str(got))

zsh_text = read(ZSH_COMPLETION)
bad = ["%s %s" % (" ".join(cmd) or "(top)", o) for cmd in COMMANDS for o in help_options(cmd)
       if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(o), zsh_text)]
s.check("zsh completion: names every option of every --help", not bad, "; ".join(bad[:10]))
s.check("zsh completion: starts with #compdef cdrift", zsh_text.startswith("#compdef cdrift"))
if shutil.which("zsh"):
    compdir = os.path.dirname(ZSH_COMPLETION)
    r = sh(["zsh", "-fc", 'autoload -Uz compinit; compinit -u -d "$2/zcompdump"; fpath=("$1" $fpath); '
            'autoload -Uz _cdrift && (( $+functions[_cdrift] )) && compdef _cdrift cdrift && '
            'print -r -- "$_comps[cdrift]"', "zsh", compdir, s.work])
    s.check("zsh completion: loads with compinit and autoload", r.returncode == 0 and out(r).strip() == "_cdrift"
            and not err(r).strip(), describe(r))
    r = sh(["zsh", "-n", ZSH_COMPLETION])
    s.check("zsh completion: zsh -n", r.returncode == 0, err(r))
else:
    print("SKIPPED zsh completion load test: zsh is not installed (apt-get install zsh; "
          "scripts/deps.sh should list it)")

# --- --version ------------------------------------------------------------------

r = s.run("--version")
v = out(r)
project_version = re.search(r"project\(cdrift VERSION ([0-9.]+)", read(os.path.join(REPO, "CMakeLists.txt")))
commit_re = r"[0-9a-f]{7,40}" if os.path.exists(os.path.join(REPO, ".git")) else r"[0-9a-f]{7,40}|unknown"
s.check("version: `cdrift --version` prints the version and the commit",
        r.returncode == 0 and project_version and re.match(r"^cdrift %s \(commit (%s)\)$" % (
            re.escape(project_version.group(1)), commit_re), v.splitlines()[0] if v else ""), describe(r) + " " + v)
if os.path.exists(os.path.join(REPO, ".git")) and shutil.which("git"):
    head = sh(["git", "-C", REPO, "rev-parse", "HEAD"])
    m = re.search(r"\(commit ([0-9a-f]+)\)", v)
    # The commit is the one configured; after new commits an old build is allowed
    # to lag, but it must be a real commit of this repository.
    ok = m and sh(["git", "-C", REPO, "cat-file", "-e", m.group(1) + "^{commit}"]).returncode == 0
    s.check("version: the commit is a commit of this repository", ok, v.splitlines()[0] if v else "")
s.check("version: names the libarchive version", re.search(r"^libarchive \d+\.\d+", v, re.M), v)
s.check("version: names the OpenSSL version", re.search(r"^OpenSSL \d+\.\d+", v, re.M), v)

# --- architecture: include rules ------------------------------------------------

ALLOWED = {
    "util": {"util"},
    "manifest": {"util", "manifest"},
    "source": {"util", "manifest", "source"},
    "layer": {"util", "manifest", "source", "layer"},
    "diff": {"util", "manifest", "diff"},
    "classify": {"util", "manifest", "diff", "classify"},
    "report": {"util", "manifest", "diff", "classify", "report"},
    "pipeline": {"util", "manifest", "source", "layer", "diff", "classify", "pipeline"},
    "cli": {"util", "manifest", "source", "layer", "diff", "classify", "report", "pipeline", "cli"},
}
bad = []
arch = read(os.path.join(DOCS, "architecture.md"))
for module, allowed in ALLOWED.items():
    row = re.search(r"^\| `%s` \| (.*) \|$" % module, arch, re.M)
    if not row or (module != "cli" and set(re.findall(r"`(\w+)`", row.group(1))) != allowed):
        bad.append("docs/architecture.md table row for %s differs" % module)
    for base in (os.path.join(REPO, "include", "cdrift", module), os.path.join(REPO, "src", module)):
        for f in glob.glob(os.path.join(base, "**", "*.*pp"), recursive=True):
            for inc in re.findall(r'#include "cdrift/(\w+)/', read(f)):
                if inc not in allowed:
                    bad.append("%s includes %s/" % (os.path.relpath(f, REPO), inc))
s.check("architecture: every #include follows the include rules of docs/architecture.md", not bad,
        "; ".join(bad[:8]))

# Public and private headers. include/cdrift/<m>/ holds what other modules may
# include: each header there is included by another module, or by a public header
# (a type in its interface). A header only its own module needs lives beside the
# sources in src/<m>/, included as "<m>/<name>.hpp" from src/<m>/, the tests and
# the fuzzers only.
def includes_of(path):
    return re.findall(r'^#include "([^"]+)"', read(path), re.M)


def module_of(rel):
    parts = rel.split(os.sep)
    return parts[2] if parts[0] == "include" else parts[1]


code = [os.path.relpath(f, REPO) for top in ("src", "include")
        for f in glob.glob(os.path.join(REPO, top, "**", "*.*pp"), recursive=True)]
public = set()
for rel in code:
    for inc in includes_of(os.path.join(REPO, rel)):
        m = re.match(r"cdrift/(\w+)/", inc)
        if m and m.group(1) != module_of(rel):
            public.add(inc)
grew = True
while grew:
    grew = False
    for h in list(public):
        path = os.path.join(REPO, "include", h)
        for inc in includes_of(path) if os.path.exists(path) else []:
            if inc.startswith("cdrift/") and inc not in public:
                public.add(inc)
                grew = True
bad = []
for f in sorted(glob.glob(os.path.join(REPO, "include", "cdrift", "*", "*.hpp"))):
    h = os.path.relpath(f, os.path.join(REPO, "include"))
    if h not in public:
        bad.append("%s is used by its own module only: it belongs in src/%s/" %
                   (os.path.join("include", h), h.split("/")[1]))
s.check("architecture: every header in include/cdrift/<module>/ is included by another module",
        not bad, "; ".join(bad[:8]))

private = {os.path.relpath(f, os.path.join(REPO, "src"))
           for f in glob.glob(os.path.join(REPO, "src", "*", "*.hpp"))}
bad = []
for top in ("src", "include", "tests", "fuzz", "bench"):
    for f in sorted(glob.glob(os.path.join(REPO, top, "**", "*.*pp"), recursive=True)):
        rel = os.path.relpath(f, REPO)
        for inc in includes_of(f):
            if inc in private:
                owner = inc.split("/")[0]
                if top in ("include", "bench") or (top == "src" and module_of(rel) != owner):
                    bad.append("%s includes %s, private to src/%s/" % (rel, inc, owner))
            elif top == "src" and not inc.startswith("cdrift/") and "/" not in inc:
                bad.append('%s includes "%s": private headers are included as "<module>/%s"' %
                           (rel, inc, inc))
s.check("architecture: a header in src/<module>/ is included only by that module, the tests and "
        "the fuzzers", not bad, "; ".join(bad[:8]))
s.check("architecture: fuzz harnesses live in fuzz/, outside the modules",
        not os.path.exists(os.path.join(REPO, "src", "fuzz")) and
        glob.glob(os.path.join(REPO, "fuzz", "*_fuzz.cpp")))

# --- descriptors owned by util::Fd ---------------------------------------------

# A raw close() is how a descriptor leaks or is closed twice on some error path;
# outside util/ every descriptor is an Fd (util/fd.hpp). Comments do not count, and
# neither do other functions whose names end in close (fclose, closedir, ...).
bad = []
for top in ("src", "include", "fuzz"):
    for f in sorted(glob.glob(os.path.join(REPO, top, "**", "*.*pp"), recursive=True)):
        rel = os.path.relpath(f, REPO)
        if rel.startswith(os.path.join("src", "util") + os.sep) or \
                rel.startswith(os.path.join("include", "cdrift", "util") + os.sep):
            continue
        for n, line in enumerate(read(f).splitlines(), 1):
            code = line.split("//", 1)[0]
            if re.search(r"(?<![\w.>])(::)?close\s*\(", code):
                bad.append("%s:%d" % (rel, n))
s.check("descriptors: no close() outside src/util/ (descriptors are util/fd.hpp's Fd)", not bad,
        "; ".join(bad[:8]))

# --- links ----------------------------------------------------------------------

bad = []
for md in [os.path.join(REPO, "README.md")] + glob.glob(os.path.join(DOCS, "*.md")):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", read(md)):
        if re.match(r"^[a-z]+:", target):
            continue
        if not os.path.exists(os.path.join(os.path.dirname(md), target)):
            bad.append("%s -> %s" % (os.path.relpath(md, REPO), target))
s.check("links: relative links in README.md and docs/*.md resolve", not bad, "; ".join(bad))

# --- cmake --install ------------------------------------------------------------

build = os.path.dirname(s.cdrift)
if not os.path.exists(os.path.join(build, "CMakeCache.txt")) or not shutil.which("cmake"):
    s.skip("install: cmake --install", "no CMake build directory beside %s" % s.cdrift)
else:
    prefix = os.path.join(s.work, "prefix")
    shutil.rmtree(prefix, ignore_errors=True)
    r = sh(["cmake", "--install", build, "--prefix", prefix], timeout=120)
    s.check("install: cmake --install BUILD --prefix TMP succeeds", r.returncode == 0, describe(r))
    binary = os.path.join(prefix, "bin", "cdrift")
    s.check("install: bin/cdrift", os.access(binary, os.X_OK))
    shipped = sorted(os.path.basename(p) for p in glob.glob(os.path.join(REPO, "rules", "*.json")))
    inst_rules = os.path.join(prefix, "share", "cdrift", "rules")
    installed = sorted(os.path.basename(p) for p in glob.glob(os.path.join(inst_rules, "*.json")))
    same = installed == shipped and all(
        read(os.path.join(inst_rules, n)) == read(os.path.join(REPO, "rules", n)) for n in installed)
    s.check("install: share/cdrift/rules holds exactly the files of rules/ (%d)" % len(shipped), same,
            "installed %s" % installed)
    man_inst = os.path.join(prefix, "share", "man", "man1", "cdrift.1")
    s.check("install: share/man/man1/cdrift.1 (re-run cmake configure if docs/cdrift.1 was added later)",
            os.path.exists(man_inst) and read(man_inst) == man_src)
    docdir = os.path.join(prefix, "share", "doc", "cdrift")
    want_docs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(DOCS, "*.md")))
    got_docs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(docdir, "*.md")))
    s.check("install: share/doc/cdrift holds docs/*.md and report.schema.json",
            got_docs == want_docs and os.path.exists(os.path.join(docdir, "report.schema.json")),
            "installed %s" % got_docs)
    for rel, src in (("share/bash-completion/completions/cdrift", BASH_COMPLETION),
                     ("share/zsh/site-functions/_cdrift", ZSH_COMPLETION)):
        p = os.path.join(prefix, rel)
        s.check("install: %s" % rel, os.path.exists(p) and read(p) == read(src))
    if os.access(binary, os.X_OK):
        env = dict(os.environ, CDRIFT_RULES_DIR=inst_rules)
        r = sh([binary, "rules", "list"], env=env)
        ids = re.findall(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+)\s", out(r), re.M)
        s.check("install: CDRIFT_RULES_DIR=PREFIX/share/cdrift/rules cdrift rules list lists the shipped rules",
                r.returncode == 0 and sorted(ids) == sorted(rule_ids), describe(r))
        r = sh([binary, "rules", "test"], env=env, timeout=120)
        s.check("install: the installed rules pass `cdrift rules test`", r.returncode == 0, describe(r))
        # The variable is really what decides: a directory without rules is an error.
        empty = os.path.join(s.work, "no-rules")
        os.makedirs(empty, exist_ok=True)
        r = sh([binary, "rules", "list"], env=dict(os.environ, CDRIFT_RULES_DIR=empty))
        s.check("install: CDRIFT_RULES_DIR is honoured (an empty directory is a rule error, exit 2)",
                r.returncode == 2 and "CDR-R001" in err(r), describe(r))
        r = sh([binary, "--version"])
        s.check("install: the installed binary runs", r.returncode == 0 and out(r) == v, describe(r))

s.finish()
