#!/usr/bin/python3
"""Drives headless Chromium through the DevTools protocol over the web view
of a running daemon, as an analyst's browser would, and checks what it
shows.  Used by tests/integration/0086-web.sh.

usage: webcheck.py CHROMIUM BASE_URL TOKEN TOPIC HOSTILE_TEXT OUTDIR [REPORT]

Starts CHROMIUM headless with a fresh profile in OUTDIR/profile on a
DevTools port it picks itself, sends "Authorization: Bearer TOKEN" with
every request, loads the overview, the page of TOPIC and the alerts
timeline, and prints one line per check: "ok NAME" or "not ok NAME:
detail".  Screenshots go to OUTDIR/overview.png, topic.png and alerts.png.
With REPORT (a `tidewatch backtest --html` file) it also opens that file
and checks that TOPIC's chart comes first with its alert marker
(OUTDIR/report.png).
Exits 0 when every check passed.  Needs python3-websocket.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,900",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


class Browser:
    """One page's DevTools session; events are kept as they come."""

    def __init__(self, chromium, profile):
        shutil.rmtree(profile, ignore_errors=True)
        os.makedirs(profile)
        self.proc = subprocess.Popen(
            [chromium] + FLAGS + ["--user-data-dir=" + profile,
                                  "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 20
        while not (os.path.exists(port_file) and
                   len(open(port_file).read().split()) >= 2):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port = open(port_file).read().split()[0]
        pages = []
        while not pages:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%s/json/list" % port, timeout=5) as r:
                pages = [p for p in json.load(r) if p.get("type") == "page"]
            if time.time() > deadline:
                raise RuntimeError("chromium has no page")
            time.sleep(0.05)
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=20)
        self.next_id = 0
        self.events = []

    def send(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def eval(self, expr):
        r = self.send("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def load(self, url, timeout=10):
        """Navigates and waits until the page says it has drawn."""
        self.send("Page.navigate", url=url)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                if self.eval("document.body && document.body.dataset.ready"
                             " === '1' && location.href === %s"
                             % json.dumps(url)):
                    return True
            except RuntimeError:
                pass    # the old document went away mid-evaluation
            time.sleep(0.1)
        return False

    def screenshot(self, path, full=False):
        """The viewport, or (full) the whole page up to 2000 px."""
        clip = {}
        if full:
            h = min(2000, self.eval("document.documentElement.scrollHeight"))
            clip = {"clip": {"x": 0, "y": 0, "width": 1280, "height": h,
                             "scale": 1}}
        r = self.send("Page.captureScreenshot", format="png",
                      captureBeyondViewport=full, **clip)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def problems(events):
    """Console errors, uncaught exceptions and failed loads seen so far."""
    out = []
    for e in events:
        m, p = e["method"], e.get("params", {})
        if m == "Runtime.exceptionThrown":
            out.append("exception: %s" % p["exceptionDetails"].get(
                "exception", {}).get("description", p["exceptionDetails"].get("text")))
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console.%s: %s" % (p["type"], [a.get("value") for a in p.get("args", [])]))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append("log: %s %s" % (p["entry"].get("text"), p["entry"].get("url", "")))
    return out


def main():
    chromium, base, token, topic, hostile, outdir = sys.argv[1:7]
    report = os.path.abspath(sys.argv[7]) if len(sys.argv) > 7 else None
    os.makedirs(outdir, exist_ok=True)
    failures = 0

    def check(name, ok, detail=""):
        nonlocal failures
        print(("ok %s" % name) if ok else ("not ok %s: %s" % (name, detail)))
        sys.stdout.flush()
        failures += 0 if ok else 1

    b = Browser(chromium, os.path.join(outdir, "profile"))
    try:
        for domain in ("Page", "Runtime", "Log", "Network"):
            b.send(domain + ".enable")
        b.send("Network.setExtraHTTPHeaders",
               headers={"Authorization": "Bearer " + token})
        b.send("Emulation.setDeviceMetricsOverride", width=1280, height=760,
               deviceScaleFactor=1, mobile=False)

        check("overview loads", b.load(base + "/"), "never ready")
        first = b.eval("(() => { const r = document.querySelector("
                       "'#topics tr'); return r ? [r.dataset.topic, "
                       "r.dataset.state, r.querySelector('.badge')"
                       ".textContent] : null })()")
        check("the firing topic is first and marked",
              first == [topic, "firing", "firing"], repr(first))
        rows = b.eval("document.querySelectorAll('#topics tr').length")
        check("every topic listed with a sparkline",
              rows >= 2 and b.eval("document.querySelectorAll("
                                   "'#topics svg.spark polyline').length") == rows,
              repr(rows))
        b.screenshot(os.path.join(outdir, "overview.png"), full=True)

        check("topic page loads", b.load(base + "/topics/" + topic),
              "never ready")
        markers = b.eval("document.querySelectorAll('#chart .alert-marker"
                         "[data-state=firing]').length")
        check("the chart has the alert marker", markers >= 1, repr(markers))
        check("the chart has the baseline band",
              b.eval("document.querySelectorAll('#chart .band').length") >= 1)
        texts = b.eval("[...document.querySelectorAll('#samples .text')]"
                       ".map(e => e.textContent)")
        check("the hostile post renders as its text", hostile in (texts or []),
              repr(texts))
        injected = b.eval("[document.querySelectorAll('img').length, "
                          "document.querySelectorAll('script').length, "
                          "document.querySelectorAll('#samples b, #samples"
                          " script, #samples img').length, "
                          "window.__pwned === undefined]")
        check("no element injected by a post", injected == [0, 1, 0, True],
              repr(injected))
        rule = b.eval("document.querySelector('#rule-where').textContent")
        check("the rule is shown with file:line",
              rule is not None and ":" in rule and "rules" in rule, repr(rule))
        distinct = b.eval("document.querySelector('#distinct b').textContent")
        check("distinct authors and texts shown", distinct == "5 / 3",
              repr(distinct))
        b.screenshot(os.path.join(outdir, "topic.png"), full=True)

        check("alerts timeline loads", b.load(base + "/alerts"), "never ready")
        arows = b.eval("document.querySelectorAll('#alerts tr').length")
        check("the alerts timeline lists the alert", arows >= 1, repr(arows))
        b.screenshot(os.path.join(outdir, "alerts.png"), full=True)

        if report is not None:
            check("report opens", b.load("file://" + report), "never ready")
            first = b.eval("(() => { const s = document.querySelector("
                           "'section.report-topic'); return s ? [s.dataset"
                           ".topic, s.querySelectorAll('.alert-marker[data-"
                           "state=firing]').length] : null })()")
            check("report: the firing topic first with its marker",
                  first is not None and first[0] == topic and first[1] >= 1,
                  repr(first))
            charts = b.eval("[document.querySelectorAll('section.report-topic"
                            "').length, document.querySelectorAll("
                            "'section.report-topic svg.trend').length]")
            check("report: a chart per topic", charts[0] >= 2 and
                  charts[0] == charts[1], repr(charts))
            b.screenshot(os.path.join(outdir, "report.png"), full=True)

        bad = problems(b.events)
        check("no console errors or exceptions", not bad, "; ".join(bad))
    finally:
        b.close()
        shutil.rmtree(os.path.join(outdir, "profile"), ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
