import Foundation

/// `qkv run --format html`: one self-contained page to explore the attention, with nothing loaded
/// from the network (inline CSS and JavaScript, system fonts, data embedded).
///
/// - a model view: one thumbnail per selected layer (rows) and head (columns), click to choose;
/// - a large heatmap of the chosen head with query and key labels; pointing at a cell shows the two
///   tokens and the exact value, clicking pins it;
/// - a head view: queries on the left, keys on the right, one line per pair as opaque as its
///   probability; pointing at a token shows only its lines and colours the other side;
/// - keys: arrows or h/j/k/l change head and layer; the address (`#layer=L&head=H&query=Q&key=K`)
///   keeps and restores the selection;
/// - the colour legend, from the same `ColorMap` as every other output.
///
/// Each head's matrix is embedded as little-endian float32 in base64 (5⅓ characters per value),
/// so the value shown is the float32 qkv computed, printed as the shortest decimal that reads back
/// as it (as `--format json` does). Heatmaps and thumbnails are canvases filled from the data
/// once, so 12 layers × 12 heads × 256 tokens (a 50 MB page) stays responsive.
public enum HTMLViewer {
    /// 2^25 values: a page of about 180 MB; more is refused rather than written.
    public static let maximumValues = 1 << 25

    public static func render(_ report: AttentionReport, title: String) throws(RenderError) -> String {
        let count = report.tokens.count
        let values = report.layers.count * report.heads.count * count * count
        guard values <= maximumValues else { throw .tooManyValues(format: "html", values: values, maximum: maximumValues) }
        var palette: [UInt8] = []
        for colour in ColorMap.viridis { palette += [colour.red, colour.green, colour.blue] }
        var matrices: [JSONValue] = []
        for layer in report.layers {
            for head in report.heads {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(count * count * 4)
                for value in layer.heads[head] { bytes.appendLE(value.bitPattern) }
                matrices.append(.string(Data(bytes).base64EncodedString()))
            }
        }
        let data = JSONValue.object([
            ("title", .string(title)),
            ("count", .int(count)),
            ("tokens", .array(report.tokens.map { .string($0.text) })),
            ("ids", .array(report.tokens.map { .int($0.id) })),
            ("layers", .array(report.layers.map { .int($0.layer) })),
            ("heads", .array(report.heads.map { .int($0) })),
            ("viridis", .string(Data(palette).base64EncodedString())),
            ("scores", .array(matrices)),
        ])
        // Inside <script>, "</script" or "<!--" in a token would end or confuse the element: every
        // "<", ">" and "&" (only ever inside JSON strings) is written as a \u escape instead.
        var json = ""
        for scalar in data.rendered().unicodeScalars {
            switch scalar {
            case "<": json += "\\u003c"
            case ">": json += "\\u003e"
            case "&": json += "\\u0026"
            case "\u{2028}": json += "\\u2028"
            case "\u{2029}": json += "\\u2029"
            default: json.unicodeScalars.append(scalar)
            }
        }
        return page.replacingOccurrences(of: "@@TITLE@@", with: xmlEscaped("qkv attention: " + displayLabel(title)))
            + "<script id=\"qkv-data\" type=\"application/json\">" + json + "</script>\n<script>\n" + script + "</script>\n</body>\n</html>\n"
    }

    static let page = #"""
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="qkv">
<title>@@TITLE@@</title>
<style>
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #ff2d55; }
* { box-sizing: border-box; }
body { margin: 0; padding: 16px 20px 32px; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 15px; margin: 0 0 8px; }
header p, footer, .note { color: var(--muted); margin: 2px 0; }
kbd { font: 12px ui-monospace, Menlo, Consolas, monospace; border: 1px solid var(--line); border-radius: 3px; padding: 0 4px; }
.legend { display: flex; align-items: center; gap: 8px; margin: 8px 0 14px; }
.legend canvas { width: 256px; height: 12px; border: 1px solid var(--line); }
.ticks { position: relative; width: 256px; height: 14px; font-size: 11px; color: var(--muted); }
.ticks span { position: absolute; transform: translateX(-50%); }
main { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
section { min-width: 0; }
#thumbs { display: grid; gap: 3px; align-items: center; justify-items: center; }
#thumbs .axis { font-size: 11px; color: var(--muted); padding: 0 4px; }
.thumb { image-rendering: pixelated; image-rendering: crisp-edges; cursor: pointer; outline: 1px solid var(--line); }
.thumb.selected { outline: 3px solid var(--accent); }
.thumb:focus-visible { outline: 3px solid #1f6feb; }
.heatwrap { position: relative; }
#heatmap { display: block; cursor: crosshair; }
#tooltip { position: absolute; pointer-events: none; background: rgba(20, 20, 20, 0.9); color: #fff; padding: 3px 7px; border-radius: 4px; font: 12px ui-monospace, Menlo, Consolas, monospace; white-space: pre; z-index: 2; }
#cell-info { font: 13px ui-monospace, Menlo, Consolas, monospace; min-height: 1.4em; }
.headview { display: flex; align-items: flex-start; }
.headview ol { list-style: none; margin: 0; padding: 0; font: 12px/20px ui-monospace, Menlo, Consolas, monospace; }
.headview li { height: 20px; padding: 0 6px; white-space: pre; overflow: hidden; max-width: 180px; text-overflow: ellipsis; cursor: default; border-radius: 3px; }
#queries li { text-align: right; }
</style>
</head>
<body>
<header>
<h1 id="title">qkv attention</h1>
<p>Post-softmax attention: rows are queries, columns are keys. Showing <b id="selection">…</b>.</p>
<div class="legend"><div><canvas id="legend" width="256" height="1"></canvas><div class="ticks"><span style="left:0%">0</span><span style="left:25%">0.25</span><span style="left:50%">0.5</span><span style="left:75%">0.75</span><span style="left:100%">1</span></div></div><span>attention probability (viridis scale, the same in every qkv output)</span></div>
<noscript><p><b>This viewer needs JavaScript</b> (it runs locally; the page loads nothing from the network).</p></noscript>
</header>
<main>
<section id="model-view"><h2>Model view: layers × heads</h2><div id="thumbs" role="group" aria-label="layers and heads"></div></section>
<section id="heatmap-view"><h2 id="heatmap-title">Heatmap</h2><div class="heatwrap"><canvas id="heatmap"></canvas><div id="tooltip" hidden></div></div><p id="cell-info" class="note">Click a cell to pin its value.</p></section>
<section id="head-view"><h2 id="head-title">Head view</h2><p class="note" id="head-note">Point at a token to see only its lines.</p><div class="headview"><ol id="queries" aria-label="queries"></ol><canvas id="lines"></canvas><ol id="keys" aria-label="keys"></ol></div></section>
</main>
<footer><p>Keys: <kbd>←</kbd> <kbd>→</kbd> or <kbd>h</kbd> <kbd>l</kbd> change the head, <kbd>↑</kbd> <kbd>↓</kbd> or <kbd>k</kbd> <kbd>j</kbd> the layer. Click a thumbnail to choose a head. The address (#layer=…&amp;head=…&amp;query=…&amp;key=…) keeps the selection. Made by qkv.</p></footer>
"""#

    static let script = #"""
"use strict";
(function () {
  const started = performance.now();
  const data = JSON.parse(document.getElementById("qkv-data").textContent);
  const T = data.count, layers = data.layers, heads = data.heads, L = layers.length, H = heads.length;
  const $ = (id) => document.getElementById(id);

  function bytes(base64) {
    const text = atob(base64), out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }
  const palette = bytes(data.viridis);
  // scores[l * H + h]: float32 T*T, row-major (query, key), exactly as qkv computed them.
  const scores = data.scores.map((base64) => {
    const raw = bytes(base64), view = new DataView(raw.buffer), out = new Float32Array(T * T);
    for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  });
  // The colour scale of every qkv output: entry min(255, floor(p * 256)) of viridis, p clamped to 0..1.
  function colourIndex(p) {
    const s = p * 256;
    if (!(s > 0)) return 0;
    return s >= 255 ? 255 : Math.floor(s);
  }
  function colour(p) {
    const i = 3 * colourIndex(p);
    return "rgb(" + palette[i] + "," + palette[i + 1] + "," + palette[i + 2] + ")";
  }
  // The shortest decimal that reads back as the same float32 (what `qkv run --format json` prints).
  function exact(v) {
    for (let digits = 1; digits <= 9; digits++) {
      const s = v.toPrecision(digits);
      if (Math.fround(Number(s)) === v) return String(Number(s));
    }
    return String(v);
  }
  // Control characters as escapes, as in the SVG and PNG labels.
  function label(text) {
    return text.replace(/[\u0000-\u001f\u007f\ufffe\uffff]/g, (c) =>
      c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : "\\u{" + c.charCodeAt(0).toString(16) + "}");
  }
  const labels = data.tokens.map(label);

  let layerAt = 0, headAt = 0, pinned = null, hovered = null, focusToken = null;

  // One T x T canvas per head: the thumbnail itself, and the image the big heatmap scales up.
  const images = scores.map((matrix) => {
    const canvas = document.createElement("canvas");
    canvas.width = T;
    canvas.height = T;
    const context = canvas.getContext("2d"), image = context.createImageData(T, T), px = image.data;
    for (let i = 0; i < matrix.length; i++) {
      const c = 3 * colourIndex(matrix[i]);
      px[4 * i] = palette[c];
      px[4 * i + 1] = palette[c + 1];
      px[4 * i + 2] = palette[c + 2];
      px[4 * i + 3] = 255;
    }
    context.putImageData(image, 0, 0);
    return canvas;
  });

  // Model view: layers down, heads across.
  const grid = $("thumbs");
  const thumbSize = Math.max(18, Math.min(64, Math.floor(600 / Math.max(H, 1))));
  grid.style.gridTemplateColumns = "auto repeat(" + H + ", " + thumbSize + "px)";
  grid.appendChild(document.createElement("span"));
  for (const head of heads) {
    const span = document.createElement("span");
    span.className = "axis";
    span.textContent = "H" + head;
    grid.appendChild(span);
  }
  const thumbs = [];
  for (let l = 0; l < L; l++) {
    const span = document.createElement("span");
    span.className = "axis";
    span.textContent = "L" + layers[l];
    grid.appendChild(span);
    for (let h = 0; h < H; h++) {
      const canvas = images[l * H + h];
      canvas.className = "thumb";
      canvas.style.width = canvas.style.height = thumbSize + "px";
      canvas.title = "layer " + layers[l] + " head " + heads[h];
      canvas.setAttribute("role", "button");
      canvas.setAttribute("aria-label", canvas.title);
      canvas.tabIndex = 0;
      canvas.addEventListener("click", () => select(l, h));
      canvas.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); select(l, h); }
      });
      grid.appendChild(canvas);
      thumbs.push(canvas);
    }
  }

  // Colour legend, from the same table.
  (function legend() {
    const canvas = $("legend"), context = canvas.getContext("2d");
    for (let i = 0; i < 256; i++) {
      context.fillStyle = "rgb(" + palette[3 * i] + "," + palette[3 * i + 1] + "," + palette[3 * i + 2] + ")";
      context.fillRect(i, 0, 1, canvas.height);
    }
  })();

  // The large heatmap of the chosen head.
  const heat = $("heatmap"), tooltip = $("tooltip");
  const labelFont = "12px ui-monospace, Menlo, Consolas, monospace";
  const measure = heat.getContext("2d");
  measure.font = labelFont;
  const labelWidth = Math.min(160, Math.ceil(labels.reduce((widest, t) => Math.max(widest, measure.measureText(t).width), 8)));
  const side = Math.max(160, Math.min(640, T * 28));
  const cellSize = side / T;
  const left = labelWidth + 8, top = labelWidth + 8;
  const labelStep = Math.max(1, Math.ceil(13 / cellSize));
  const ratio = window.devicePixelRatio || 1;
  heat.style.width = left + side + 8 + "px";
  heat.style.height = top + side + 8 + "px";
  heat.width = Math.round((left + side + 8) * ratio);
  heat.height = Math.round((top + side + 8) * ratio);

  function cellAt(event) {
    const box = heat.getBoundingClientRect();
    const k = Math.floor((event.clientX - box.left - left) / cellSize), q = Math.floor((event.clientY - box.top - top) / cellSize);
    return q >= 0 && q < T && k >= 0 && k < T ? { q, k } : null;
  }

  function fitted(context, text) {
    if (context.measureText(text).width <= labelWidth) return text;
    let cut = text;
    while (cut.length > 1 && context.measureText(cut + "\u2026").width > labelWidth) cut = cut.slice(0, -1);
    return cut + "\u2026";
  }

  function drawHeatmap() {
    const context = heat.getContext("2d"), matrix = scores[layerAt * H + headAt];
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.fillStyle = "#fff";
    context.fillRect(0, 0, left + side + 8, top + side + 8);
    context.imageSmoothingEnabled = false;
    context.drawImage(images[layerAt * H + headAt], left, top, side, side);
    context.font = labelFont;
    const mark = hovered || pinned || null;
    context.textBaseline = "middle";
    for (let i = 0; i < T; i++) {
      const row = mark !== null && i === mark.q, column = mark !== null && i === mark.k;
      if (i % labelStep === 0 || row) {
        context.fillStyle = row ? "#000" : "#555";
        context.textAlign = "right";
        context.fillText(fitted(context, labels[i]), left - 4, top + (i + 0.5) * cellSize);
      }
      if (i % labelStep === 0 || column) {
        context.fillStyle = column ? "#000" : "#555";
        context.save();
        context.translate(left + (i + 0.5) * cellSize, top - 4);
        context.rotate(-Math.PI / 2);
        context.textAlign = "left";
        context.fillText(fitted(context, labels[i]), 0, 0);
        context.restore();
      }
    }
    for (const [cell, stroke] of [[pinned, "#ff2d55"], [hovered, "#fff"]]) {
      if (!cell) continue;
      context.strokeStyle = stroke;
      context.lineWidth = 2;
      context.strokeRect(left + cell.k * cellSize, top + cell.q * cellSize, cellSize, cellSize);
    }
    if (pinned) {
      const value = matrix[pinned.q * T + pinned.k];
      const info = $("cell-info");
      info.dataset.value = exact(value);
      info.textContent = "layer " + layers[layerAt] + " head " + heads[headAt] + ": query " + labels[pinned.q] +
        " (" + pinned.q + ") \u2192 key " + labels[pinned.k] + " (" + pinned.k + ") = " + exact(value);
    }
  }

  heat.addEventListener("mousemove", (event) => {
    const cell = cellAt(event);
    if (!cell) { heat.dispatchEvent(new Event("mouseleave")); return; }
    hovered = cell;
    const value = scores[layerAt * H + headAt][cell.q * T + cell.k];
    tooltip.textContent = labels[cell.q] + " (" + cell.q + ") \u2192 " + labels[cell.k] + " (" + cell.k + "): " + exact(value);
    tooltip.hidden = false;
    const box = heat.getBoundingClientRect();
    tooltip.style.left = event.clientX - box.left + 14 + "px";
    tooltip.style.top = event.clientY - box.top + 14 + "px";
    drawHeatmap();
  });
  heat.addEventListener("mouseleave", () => {
    hovered = null;
    tooltip.hidden = true;
    drawHeatmap();
  });
  heat.addEventListener("click", (event) => {
    const cell = cellAt(event);
    if (!cell) return;
    pinned = cell;
    drawHeatmap();
    remember();
  });

  // Head view: queries on the left, keys on the right, a line from each query to each key it
  // attends to, as opaque as the probability. Pointing at a token shows only its lines.
  const queries = $("queries"), keys = $("keys"), lines = $("lines");
  const rowHeight = 20, lineWidth = 200;
  const drawable = T * rowHeight <= 30000;
  for (const [list, role] of [[queries, "query"], [keys, "key"]]) {
    for (let i = 0; i < T; i++) {
      const item = document.createElement("li");
      item.textContent = labels[i];
      item.title = role + " " + i + ": " + data.tokens[i];
      item.addEventListener("mouseenter", () => { focusToken = { side: role, index: i }; drawLines(); });
      item.addEventListener("mouseleave", () => { focusToken = null; drawLines(); });
      list.appendChild(item);
    }
  }
  if (drawable) {
    lines.width = Math.round(lineWidth * ratio);
    lines.height = Math.round(T * rowHeight * ratio);
    lines.style.width = lineWidth + "px";
    lines.style.height = T * rowHeight + "px";
  } else {
    $("head-note").textContent = "Lines are drawn for up to 1500 tokens.";
  }

  function drawLines() {
    const matrix = scores[layerAt * H + headAt];
    for (let i = 0; i < T; i++) {
      queries.children[i].style.background = "";
      keys.children[i].style.background = "";
      queries.children[i].style.color = keys.children[i].style.color = "";
    }
    if (!drawable) return;
    const context = lines.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, lineWidth, T * rowHeight);
    context.lineWidth = 1.5;
    context.strokeStyle = "#1f6feb";
    const y = (i) => (i + 0.5) * rowHeight;
    // Lines grouped into 32 opacity steps: one stroke per step keeps T*T lines fast.
    const buckets = Array.from({ length: 32 }, () => []);
    for (let q = 0; q < T; q++) {
      if (focusToken && focusToken.side === "query" && focusToken.index !== q) continue;
      for (let k = 0; k < T; k++) {
        if (focusToken && focusToken.side === "key" && focusToken.index !== k) continue;
        const p = matrix[q * T + k];
        if (p < 1 / 64) continue;
        buckets[Math.min(31, Math.floor(p * 32))].push(q, k);
      }
    }
    buckets.forEach((pairs, step) => {
      if (pairs.length === 0) return;
      context.globalAlpha = (step + 1) / 32;
      context.beginPath();
      for (let i = 0; i < pairs.length; i += 2) {
        context.moveTo(0, y(pairs[i]));
        context.lineTo(lineWidth, y(pairs[i + 1]));
      }
      context.stroke();
    });
    context.globalAlpha = 1;
    if (focusToken) {
      const other = focusToken.side === "query" ? keys : queries;
      for (let i = 0; i < T; i++) {
        const p = focusToken.side === "query" ? matrix[focusToken.index * T + i] : matrix[i * T + focusToken.index];
        other.children[i].style.background = colour(p);
        other.children[i].style.color = colourIndex(p) > 150 ? "#000" : "#fff";
      }
    }
  }

  function remember() {
    let hash = "#layer=" + layers[layerAt] + "&head=" + heads[headAt];
    if (pinned) hash += "&query=" + pinned.q + "&key=" + pinned.k;
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function select(l, h) {
    layerAt = Math.max(0, Math.min(L - 1, l));
    headAt = Math.max(0, Math.min(H - 1, h));
    thumbs.forEach((thumb, i) => {
      const on = i === layerAt * H + headAt;
      thumb.classList.toggle("selected", on);
      thumb.setAttribute("aria-pressed", on ? "true" : "false");
    });
    const name = "layer " + layers[layerAt] + " head " + heads[headAt];
    $("selection").textContent = name;
    $("heatmap-title").textContent = "Heatmap: " + name;
    $("head-title").textContent = "Head view: " + name;
    drawHeatmap();
    drawLines();
    remember();
  }

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const moves = { ArrowLeft: [0, -1], h: [0, -1], ArrowRight: [0, 1], l: [0, 1], ArrowUp: [-1, 0], k: [-1, 0], ArrowDown: [1, 0], j: [1, 0] };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    select(layerAt + move[0], headAt + move[1]);
  });

  // Start from the address: #layer=L&head=H&query=Q&key=K (all optional).
  const wanted = new URLSearchParams(location.hash.slice(1));
  const at = (list, key) => Math.max(0, list.indexOf(Number(wanted.get(key))));
  const q = Number(wanted.get("query")), k = Number(wanted.get("key"));
  if (wanted.has("query") && wanted.has("key") && q >= 0 && q < T && k >= 0 && k < T && Number.isInteger(q) && Number.isInteger(k)) pinned = { q, k };
  $("title").textContent = data.title;
  select(at(layers, "layer"), at(heads, "head"));
  document.body.dataset.ready = "true";
  document.body.dataset.renderMs = (performance.now() - started).toFixed(1);
})();
"""#
}
