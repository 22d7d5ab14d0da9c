#!/usr/bin/env python3
"""Renders lockstep's HTML pages in headless Chromium and checks what a person would see.

usage: browser_check.py CHROMIUM OUT_DIR RUN_DIR SWEEP_DIR WALKFORWARD_DIR

For each page (report.html, sweep.html, walkforward.html) it fails on:
- any console message (the pages carry no script, so any message means something broke),
- a page that links anything outside itself (src/href other than '#' or data:),
- a blank page (almost no text in the rendered DOM, or a near-empty screenshot),
- a headline figure in the DOM (elements with data-key) that differs from summary.json or
  walkforward.json, or a sweep table whose rows differ from sweep.csv.
Screenshots go to OUT_DIR (artifacts, never committed). It checks itself first: a page with
a console error and a blank page must both be caught.
Standard library only.
"""
import csv
import json
import os
import subprocess
import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    """Collects text, data-key values, outside links and table rows of a rendered DOM."""

    def __init__(self):
        super().__init__()
        self.text = []
        self.keys = {}
        self.links = []
        self.rows = {}
        self._key = None
        self._table = None
        self._cell = None
        self._row = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-key" in a:
            self._key = a["data-key"]
            self.keys[self._key] = ""
        for attr in ("src", "href"):
            v = a.get(attr)
            if v and not (v.startswith("#") or v.startswith("data:")):
                self.links.append(v)
        if tag == "table":
            self._table = a.get("class", "")
            self.rows.setdefault(self._table, [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "span" or tag == "div":
            self._key = None

    def handle_data(self, data):
        self.text.append(data)
        if self._key is not None:
            self.keys[self._key] += data
        if self._cell is not None:
            self._cell += data


def run_chromium(args):
    """Runs headless Chromium. A run the browser itself died in (killed by a signal: seen
    once on this machine type as a SIGSEGV, the same page rendering cleanly right after)
    is tried again, up to three runs in all, each retry said on stderr. A page's own
    problems never end in a signal, so they are never retried."""
    for _ in range(3):
        r = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if r.returncode >= 0:
            return r
        print(f"chromium killed by signal {-r.returncode}; running it again", file=sys.stderr)
    return r


def render(chromium, page, shot):
    """Returns (dom, console lines) and writes a screenshot of the page."""
    url = "file://" + os.path.abspath(page)
    flags = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             "--no-first-run", "--disable-extensions", "--enable-logging=stderr", "--v=0"]
    r = run_chromium(flags + ["--dump-dom", url])
    if r.returncode != 0:
        raise SystemExit(f"{page}: chromium exited {r.returncode}: {r.stderr[-2000:]}")
    console = [l for l in r.stderr.splitlines() if ":CONSOLE" in l]
    s = run_chromium(flags + ["--window-size=1200,2600", f"--screenshot={shot}", url])
    if s.returncode != 0 or not os.path.isfile(shot):
        raise SystemExit(f"{page}: no screenshot: {s.stderr[-2000:]}")
    return r.stdout, console


def problems(chromium, page, shot):
    """What is wrong with how `page` renders (empty when nothing)."""
    dom_text, console = render(chromium, page, shot)
    dom = Dom()
    dom.feed(dom_text)
    out = [f"console: {l}" for l in console]
    out += [f"links outside the page: {l}" for l in dom.links]
    words = len("".join(dom.text).split())
    if words < 30:
        out.append(f"blank page: {words} words of text")
    if os.path.getsize(shot) < 15_000:
        out.append(f"blank screenshot: {os.path.getsize(shot)} bytes")
    return out, dom


def field(doc, key):
    v = doc
    for k in key.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    if v is None:
        return "–"
    return v if isinstance(v, str) else json.dumps(v)


def check_keys(dom, doc, name):
    bad = []
    if not dom.keys:
        bad.append(f"no headline figures (data-key) in the DOM")
    for k, shown in sorted(dom.keys.items()):
        want = field(doc, k)
        if shown.strip() != want:
            bad.append(f"{k}: page shows {shown.strip()!r}, {name} says {want!r}")
    return bad


def self_test(chromium, out):
    """The checker must catch a console error and a blank page."""
    bad_page = os.path.join(out, "selftest-console.html")
    with open(bad_page, "w") as f:
        f.write("<!DOCTYPE html><html><body>" + "word " * 50 +
                "<script>console.error('self-test')</script></body></html>")
    found, _ = problems(chromium, bad_page, os.path.join(out, "selftest-console.png"))
    if not any("self-test" in p for p in found):
        raise SystemExit("self-test: a console error went unnoticed")
    blank = os.path.join(out, "selftest-blank.html")
    with open(blank, "w") as f:
        f.write("<!DOCTYPE html><html><body></body></html>")
    found, _ = problems(chromium, blank, os.path.join(out, "selftest-blank.png"))
    if not any("blank" in p for p in found):
        raise SystemExit("self-test: a blank page went unnoticed")


def main():
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    chromium, out, run, sweep, wf = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    self_test(chromium, out)
    failures = []

    found, dom = problems(chromium, os.path.join(run, "report.html"), os.path.join(out, "report.png"))
    with open(os.path.join(run, "summary.json")) as f:
        found += check_keys(dom, json.load(f), "summary.json")
    failures += [f"report.html: {p}" for p in found]

    found, dom = problems(chromium, os.path.join(wf, "walkforward.html"), os.path.join(out, "walkforward.png"))
    with open(os.path.join(wf, "walkforward.json")) as f:
        found += check_keys(dom, json.load(f), "walkforward.json")
    failures += [f"walkforward.html: {p}" for p in found]

    found, dom = problems(chromium, os.path.join(sweep, "sweep.html"), os.path.join(out, "sweep.png"))
    with open(os.path.join(sweep, "sweep.csv"), newline="") as f:
        want = list(csv.reader(f))
    if dom.rows.get("points") != want:
        found.append(f"the points table differs from sweep.csv ({len(dom.rows.get('points', []))} rows shown, {len(want)} in the file)")
    failures += [f"sweep.html: {p}" for p in found]

    if failures:
        print("\n".join(failures))
        raise SystemExit(1)
    print(f"browser check: report.html, sweep.html, walkforward.html render cleanly; screenshots in {out}")


if __name__ == "__main__":
    main()
