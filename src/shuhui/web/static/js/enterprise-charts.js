// Charts of the enterprise platform's pages: every element with data-chart holds
// {type: "line"|"bar", labels: [...], unit: "...", series: [{name, values}]}; a table beside
// each chart says the same in words, so the chart only adds the shape.
(function () {
  "use strict";
  function draw(el) {
    var spec = JSON.parse(el.getAttribute("data-chart"));
    var chart = echarts.init(el, null, { renderer: "svg" });
    function options() {
      var narrow = el.clientWidth < 560;
      chart.setOption({
        animation: false,
        color: ["#1456a0", "#1d6b35", "#b54708", "#7a3fb0"],
        tooltip: { trigger: "axis" },
        legend: { top: 0, textStyle: { color: "#1f2933" } },
        grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
        xAxis: { type: "category", data: spec.labels,
          axisLabel: { color: "#1f2933", interval: narrow ? "auto" : 0, rotate: narrow ? 45 : 0 } },
        yAxis: { type: "value", axisLabel: { formatter: "{value}" + (spec.unit || ""), color: "#1f2933" } },
        series: spec.series.map(function (s) {
          return { type: spec.type || "line", name: s.name, data: s.values, smooth: false,
            barMaxWidth: 18, showSymbol: spec.labels.length < 30 };
        })
      }, true);
    }
    options();
    window.addEventListener("resize", function () { chart.resize(); options(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof echarts === "undefined") { return; }
    document.querySelectorAll("[data-chart]").forEach(draw);
  });
})();
