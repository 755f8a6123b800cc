// Charts of the insight pages (the five maps, an indicator, the leaders' dashboard). Every
// element with data-insight holds {kind: "month"|"district"|"group", name, unit, cells:
// [{key, label: {zh, en}, value, withheld}]}; a table beside each chart says the same in
// words. Withheld cells (fewer than k people) are drawn as gaps, never as 0. A button with
// data-png="<chart id>" downloads that chart as a PNG.
(function () {
  "use strict";
  var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;
  var geo = null;
  var charts = {};

  function label(cell) { return zh ? cell.label.zh : cell.label.en; }
  function values(spec) { return spec.cells.map(function (c) { return c.withheld ? null : c.value; }); }

  function loadGeo() {
    if (!geo) {
      geo = fetch("/static/maps/qingdao.json").then(function (r) { return r.json(); }).then(function (g) {
        echarts.registerMap("qingdao", g);
        return g;
      });
    }
    return geo;
  }

  function options(spec, el, dark) {
    var text = dark ? "#e6edf7" : "#1f2933";
    var narrow = el.clientWidth < 560;
    var base = { animation: false, color: ["#1456a0", "#1d6b35", "#b54708", "#7a3fb0"],
      textStyle: { color: text }, tooltip: { trigger: spec.kind === "district" ? "item" : "axis" } };
    if (spec.kind === "district") {
      var shown = values(spec).filter(function (v) { return v !== null; });
      if (!shown.length) { shown = [0]; }
      base.visualMap = { min: Math.min.apply(null, shown), max: Math.max.apply(null, shown) || 1,
        left: 8, bottom: 8, calculable: true, textStyle: { color: text },
        text: [zh ? "高" : "high", zh ? "低" : "low"], inRange: { color: ["#dbe7f6", "#1456a0"] } };
      base.series = [{ name: spec.name, type: "map", map: "qingdao", nameProperty: "name",
        label: { show: !narrow, fontSize: 10, color: dark ? "#fff" : "#1f2933" },
        data: spec.cells.map(function (c) { return { name: c.label.zh, value: c.withheld ? null : c.value }; }) }];
      return base;
    }
    var labels = spec.cells.map(label);
    base.grid = { left: 8, right: 16, top: 16, bottom: 8, containLabel: true };
    if (spec.kind === "group") {
      base.xAxis = { type: "value", axisLabel: { color: text } };
      base.yAxis = { type: "category", data: labels, inverse: true, axisLabel: { color: text, width: 120, overflow: "truncate" } };
      base.series = [{ name: spec.name, type: "bar", data: values(spec), barMaxWidth: 18 }];
      return base;
    }
    var ahead = spec.forecast || [];
    var actual = values(spec);
    base.xAxis = { type: "category", data: labels.concat(ahead.map(label)), axisLabel: { color: text, interval: narrow ? "auto" : 0, rotate: 45 } };
    base.yAxis = { type: "value", axisLabel: { color: text } };
    base.series = [{ name: spec.name, type: "line", data: actual, connectNulls: false, showSymbol: labels.length < 30 }];
    if (ahead.length) {
      // The forecast joins the last month shown, dashed: what is measured and what is guessed.
      var dashed = actual.map(function (v, i) { return i === actual.length - 1 ? v : null; })
        .concat(ahead.map(function (p) { return p.value; }));
      base.series.push({ name: zh ? "预测" : "Forecast", type: "line", data: dashed, lineStyle: { type: "dashed" }, showSymbol: true });
      base.legend = { top: 0, textStyle: { color: text } };
      base.grid.top = 28;
    }
    return base;
  }

  function draw(el) {
    var spec = JSON.parse(el.getAttribute("data-insight"));
    var dark = el.hasAttribute("data-dark");
    var chart = charts[el.id] || echarts.init(el, null, { renderer: el.hasAttribute("data-canvas") ? "canvas" : "svg" });
    charts[el.id] = chart;
    var set = function () { chart.setOption(options(spec, el, dark), true); el.setAttribute("data-drawn", String(spec.cells.length)); };
    if (spec.kind === "district") { loadGeo().then(set); } else { set(); }
  }

  function png(button) {
    var el = document.getElementById(button.getAttribute("data-png"));
    if (!el || !charts[el.id]) { return; }
    // The page draws SVG (sharp, light); a picture needs pixels: the same chart is drawn once
    // more on a canvas off screen, saved and thrown away.
    var spec = JSON.parse(el.getAttribute("data-insight"));
    var box = document.createElement("div");
    box.style.cssText = "position:absolute;left:-10000px;top:0;width:" + el.clientWidth + "px;height:" + el.clientHeight + "px";
    document.body.appendChild(box);
    var canvas = echarts.init(box, null, { renderer: "canvas" });
    canvas.setOption(options(spec, el, false), true);
    var url = canvas.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#ffffff" });
    canvas.dispose();
    box.remove();
    var link = document.createElement("a");
    link.href = url;
    link.download = button.getAttribute("data-name") + ".png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  window.shuhuiInsight = { draw: draw, charts: charts };
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("[data-insight]").forEach(draw);
    document.querySelectorAll("[data-png]").forEach(function (b) { b.addEventListener("click", function () { png(b); }); });
    window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  });
})();
