#!/usr/bin/env python3
"""Checks `qkv run --format html` in a real headless browser (Debian's chromium).

For each page: writes it with qkv (or, for the awkward-token and 12 x 12 x 256 cases, swaps synthetic
data into a page qkv wrote), lets chromium run its scripts and dump the DOM, and checks that every
token is in the DOM (queries and keys of the head view), that there is one thumbnail per layer and
head, that the selection and the pinned cell from the address (#layer=&head=&query=&key=) are shown,
and that the value shown is the float32 `qkv run --format json` prints. Then takes a screenshot and
checks it is not blank and shows the colour map. Prints one line per check and 'N passed, M failed';
exits 1 if anything failed.

usage: python3 scripts/test_html.py [--qkv PATH] [--chromium PATH] [--keep DIR]
Standard library only.
"""
import argparse
import base64
import html.parser
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MINILM = os.path.join(os.environ.get("QKV_MODEL_CACHE", os.path.expanduser("~/.cache/qkv-models")), "all-MiniLM-L6-v2")
WINDOW = (1400, 1000)
VIRIDIS_ENDS = [(0x44, 0x01, 0x54), (0xFD, 0xE7, 0x25)]

passed, failed = 0, 0


def check(condition, what):
    global passed, failed
    if condition:
        passed += 1
        print("ok:", what)
    else:
        failed += 1
        print("FAIL:", what)
    return condition


def float32(value):
    return struct.unpack("<f", struct.pack("<f", value))[0]


def label(text):
    """The viewer's label: control characters as escapes (see label() in the page)."""
    out = []
    for c in text:
        if c == "\n": out.append("\\n")
        elif c == "\t": out.append("\\t")
        elif c == "\r": out.append("\\r")
        elif ord(c) < 0x20 or ord(c) == 0x7F or c in "\ufffe\uffff": out.append("\\u{%x}" % ord(c))
        else: out.append(c)
    return "".join(out)


class DOM(html.parser.HTMLParser):
    """What the checks need from the dumped DOM: elements by id, head-view items, thumbnails."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.by_id, self.lists, self.thumbs, self.body = {}, {"queries": [], "keys": []}, 0, {}
        self.stack, self.current_list, self.text_target = [], None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body": self.body = attrs
        if tag == "canvas" and "thumb" in (attrs.get("class") or "").split(): self.thumbs += 1
        if tag == "ol" and attrs.get("id") in self.lists: self.current_list = attrs["id"]
        if tag == "li" and self.current_list:
            self.lists[self.current_list].append("")
            self.text_target = ("li", self.current_list)
        if "id" in attrs:
            self.by_id[attrs["id"]] = {"attrs": attrs, "text": ""}
            if tag not in ("ol", "script", "main", "section", "div", "canvas"):
                self.text_target = ("id", attrs["id"])

    def handle_endtag(self, tag):
        if tag == "ol": self.current_list = None
        if tag in ("li", "p", "b", "h1", "h2", "span", "div"): self.text_target = None

    def handle_data(self, data):
        if not self.text_target: return
        kind, key = self.text_target
        if kind == "li": self.lists[key][-1] += data
        else: self.by_id[key]["text"] += data


def decode_png(data):
    """8-bit RGB or RGBA PNG -> (width, height, rows of (r, g, b)); the five filters undone."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0], "CRC " + kind.decode()
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and colour in (2, 6), (depth, colour)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1: line[i] = (line[i] + a) & 255
            elif kind == 2: line[i] = (line[i] + b) & 255
            elif kind == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def chromium(browser, url, *flags, timeout=180):
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               "--window-size=%d,%d" % WINDOW, *flags, url]
    return subprocess.run(command, capture_output=True, timeout=timeout)


def qkv(binary, *arguments):
    result = subprocess.run([binary, *arguments], capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit("qkv %s failed: %s" % (" ".join(arguments), result.stderr.decode()))
    return result.stdout


def page_data(page):
    start = page.index('<script id="qkv-data" type="application/json">') + len('<script id="qkv-data" type="application/json">')
    return start, page.index("</script>", start)


def with_data(page, data):
    """A qkv page with its embedded data replaced, escaped as qkv escapes it."""
    start, end = page_data(page)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return page[:start] + text + page[end:]


def synthetic(tokens, layers, heads, seed):
    """Random rows that sum to 1, float32, in the page's data layout; returns (data, matrices)."""
    rng, count, matrices, encoded = random.Random(seed), len(tokens), [], []
    distinct = []
    for _ in range(min(layers * heads, 8)):  # a few distinct heads, reused, keep big pages quick to make
        matrix = []
        for _ in range(count):
            row = [rng.random() ** 4 for _ in range(count)]
            total = sum(row)
            matrix.extend(float32(v / total) for v in row)
        distinct.append((matrix, base64.b64encode(struct.pack("<%df" % len(matrix), *matrix)).decode()))
    for index in range(layers * heads):
        matrix, text = distinct[index % len(distinct)]
        matrices.append(matrix)
        encoded.append(text)
    palette = json.loads(qkv_palette)
    data = {"title": "synthetic", "count": count, "tokens": tokens, "ids": list(range(count)),
            "layers": list(range(layers)), "heads": list(range(heads)), "viridis": palette, "scores": encoded}
    return data, matrices


qkv_palette = None


def check_page(browser, path, name, tokens, layers, heads, pinned, expected_value, folder):
    """Loads the page at #layer=&head=&query=&key= and checks DOM and screenshot."""
    layer, head, query, key = pinned
    url = "file://%s#layer=%d&head=%d&query=%d&key=%d" % (path, layer, head, query, key)
    started = time.time()
    result = chromium(browser, url, "--dump-dom")
    seconds = time.time() - started
    dom = DOM()
    dom.feed(result.stdout.decode("utf-8", "replace"))
    check(dom.body.get("data-ready") == "true", "%s: scripts ran (chromium %.1f s, page script %s ms)"
          % (name, seconds, dom.body.get("data-render-ms")))
    labels = [label(t) for t in tokens]
    check(dom.lists["queries"] == labels and dom.lists["keys"] == labels,
          "%s: all %d tokens in the DOM, in order, as queries and keys" % (name, len(tokens)))
    check(dom.thumbs == layers * heads, "%s: %d thumbnails (layers x heads = %d)" % (name, dom.thumbs, layers * heads))
    selection = dom.by_id.get("selection", {}).get("text")
    check(selection == "layer %d head %d" % (layer, head), "%s: selection from the address: %r" % (name, selection))
    shown = dom.by_id.get("cell-info", {}).get("attrs", {}).get("data-value")
    check(shown is not None and float32(float(shown)) == float32(expected_value),
          "%s: pinned cell shows %s, expected float32 %r" % (name, shown, float32(expected_value)))
    shot = os.path.join(folder, name + ".png")
    chromium(browser, "file://%s#layer=%d&head=%d" % (path, layer, head), "--screenshot=" + shot)
    if not check(os.path.exists(shot), "%s: screenshot written" % name):
        return
    width, height, rows = decode_png(open(shot, "rb").read())
    pixels = [p for row in rows[::2] for p in row[::2]]
    lum = [0.299 * r + 0.587 * g + 0.114 * b for r, g, b in pixels]
    mean = sum(lum) / len(lum)
    deviation = (sum((v - mean) ** 2 for v in lum) / len(lum)) ** 0.5
    colours = len(set(pixels))
    check((width, height) == WINDOW and deviation > 10 and colours > 50,
          "%s: screenshot %dx%d not blank (luminance deviation %.1f, %d colours)" % (name, width, height, deviation, colours))
    near = sum(1 for p in pixels if min(sum(abs(a - b) for a, b in zip(p, end)) for end in VIRIDIS_ENDS) < 24)
    check(near > 200, "%s: heatmap colours on screen (%d sampled pixels near viridis ends)" % (name, near))


def main():
    global qkv_palette
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--qkv", default=os.path.join(ROOT, ".build", "debug", "qkv"))
    parser.add_argument("--chromium", default=None)
    parser.add_argument("--keep", default=None, help="keep pages and screenshots in this folder")
    options = parser.parse_args()
    browser = options.chromium or next(
        (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)), None)
    if not browser:
        raise SystemExit("no chromium found: apt-get install chromium")
    if not os.path.exists(options.qkv):
        subprocess.run(["swift", "build", "--product", "qkv"], cwd=ROOT, check=True)
    folder = options.keep or tempfile.mkdtemp(prefix="qkv-html-")
    os.makedirs(folder, exist_ok=True)

    cases = [
        ("seed", "fixtures/seed.qkv", ["--text", "x1 x2 x3"], (0, 0, 1, 2)),
        ("one-token", "fixtures/seed.qkv", ["--tokens", "x2"], (0, 0, 0, 0)),
        ("tiny-gpt2", "fixtures/hf/tiny-gpt2", ["--tokens", "1,2,3,4,5"], (1, 3, 4, 0)),
        ("tiny-llama", "fixtures/hf/tiny-llama", ["--tokens", "1,2,3,4,5"], (1, 2, 3, 3)),
    ]
    if os.path.exists(os.path.join(MINILM, "model.safetensors")):
        cases.append(("minilm", MINILM, ["--text", "The cat sat on the mat because it was tired."], (5, 7, 2, 1)))
    else:
        check(False, "all-MiniLM-L6-v2 not found in %s (bash scripts/fetch_minilm.sh)" % MINILM)

    page = None
    for name, model, tokens, pinned in cases:
        path = os.path.join(folder, name + ".html")
        qkv(options.qkv, "run", model, *tokens, "--format", "html", "-o", path)
        reference = json.loads(qkv(options.qkv, "run", model, *tokens, "--format", "json"))
        texts = [t["text"] for t in reference["tokens"]]
        layer_numbers = [l["layer"] for l in reference["layers"]]
        layer = reference["layers"][layer_numbers.index(pinned[0])]
        head = next(h for h in layer["heads"] if h["head"] == pinned[1])
        value = head["scores"][pinned[2]][pinned[3]]
        check_page(browser, path, name, texts, len(layer_numbers), len(layer["heads"]), pinned, value, folder)
        page = page or open(path, encoding="utf-8").read()

    start, end = page_data(page)
    qkv_palette = json.dumps(json.loads(page[start:end])["viridis"])

    # Tokens that would break a careless page: markup, entities, quotes, controls, non-BMP text.
    awkward = ["</script><script>document.body.dataset.ready='no'</script>", "a&amp;b", "<!--", "\"q\" 'x'",
               "é漢🙂", "line\nbreak", "tab\there", "\u2028", "<b>bold</b>", "   "]
    data, matrices = synthetic(awkward, 2, 3, seed=1)
    path = os.path.join(folder, "awkward.html")
    open(path, "w", encoding="utf-8").write(with_data(page, data))
    check_page(browser, path, "awkward", awkward, 2, 3, (1, 2, 4, 7), matrices[1 * 3 + 2][4 * len(awkward) + 7], folder)

    # 12 layers x 12 heads x 256 tokens: the size the issue asks to stay responsive.
    tokens = ["tok%d" % i for i in range(256)]
    data, matrices = synthetic(tokens, 12, 12, seed=2)
    big = with_data(page, data)
    # Measured in the page: 24 keyboard moves (each redraws heatmap and head view) and 40 hovers.
    probe = """<script>(function () {
      const times = [];
      for (const key of ["ArrowRight", "ArrowDown", "l", "j", "ArrowLeft", "ArrowUp", "h", "k"].concat(
          Array(16).fill("ArrowRight"))) {
        const t = performance.now();
        document.dispatchEvent(new KeyboardEvent("keydown", { key: key }));
        times.push(performance.now() - t);
      }
      const heat = document.getElementById("heatmap"), box = heat.getBoundingClientRect(), hovers = [];
      for (let i = 0; i < 40; i++) {
        const t = performance.now();
        heat.dispatchEvent(new MouseEvent("mousemove", { clientX: box.right - 20 - i * 5, clientY: box.bottom - 20 - i * 7 }));
        hovers.push(performance.now() - t);
      }
      times.sort((a, b) => a - b); hovers.sort((a, b) => a - b);
      document.body.dataset.keyMs = times[times.length >> 1].toFixed(1) + "/" + times[times.length - 1].toFixed(1);
      document.body.dataset.hoverMs = hovers[hovers.length >> 1].toFixed(1) + "/" + hovers[hovers.length - 1].toFixed(1);
      document.body.dataset.selectedAfter = document.getElementById("selection").textContent;
    })();</script>"""
    path = os.path.join(folder, "big.html")
    open(path, "w", encoding="utf-8").write(big.replace("</body>", probe + "\n</body>"))
    size = os.path.getsize(path)
    started = time.time()
    result = chromium(browser, "file://" + path + "#layer=0&head=0", "--dump-dom")
    seconds = time.time() - started
    dom = DOM()
    dom.feed(result.stdout.decode("utf-8", "replace"))
    render, keys, hovers = dom.body.get("data-render-ms"), dom.body.get("data-key-ms"), dom.body.get("data-hover-ms")
    print("12x12x256: page %.1f MB, chromium load+dump %.1f s, first render %s ms, key move median/max %s ms, hover median/max %s ms"
          % (size / 1e6, seconds, render, keys, hovers))
    check(dom.body.get("data-ready") == "true" and dom.thumbs == 144 and len(dom.lists["queries"]) == 256,
          "12x12x256: scripts ran, 144 thumbnails, 256 tokens")
    check(render is not None and float(render) < 15000, "12x12x256: first render under 15 s (%s ms)" % render)
    check(keys is not None and float(keys.split("/")[0]) < 250, "12x12x256: a keyboard move redraws in under 250 ms (median %s)" % keys)
    check(hovers is not None and float(hovers.split("/")[0]) < 50, "12x12x256: a hover redraws in under 50 ms (median %s)" % hovers)
    check(dom.body.get("data-selected-after") == "layer 0 head 11", "12x12x256: keys moved the selection (%s)" % dom.body.get("data-selected-after"))

    if not options.keep:
        shutil.rmtree(folder, ignore_errors=True)
    print("html: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
