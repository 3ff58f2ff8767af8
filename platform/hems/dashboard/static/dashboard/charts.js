/* The period's energy chart and flow diagram (Apache ECharts), from the JSON the page
   embeds (hems.dashboard.series.chart). Used by the dashboard and the admin's user page;
   window.hemsCharts.update(data) redraws with new figures. */
(function () {
  "use strict";

  var COLORS = {
    production: "#f2a900",
    consumption: "#475569",
    storage_charge: "#22a06b",
    storage_discharge: "#0f766e",
    grid_import: "#2f6fde",
    grid_export: "#8b5cf6",
  };
  var NAMES = {
    production: "Production",
    consumption: "Consumption",
    storage_charge: "Storage charge",
    storage_discharge: "Storage discharge",
    grid_import: "Grid import",
    grid_export: "Grid export",
  };
  var SUPPLY = ["production", "storage_discharge", "grid_import"];
  var USE = ["consumption", "storage_charge", "grid_export"];
  // Flow diagram: where each source's energy went (hems.dashboard.flows).
  var SOURCE_NODE = { production: "Production", storage_discharge: "From storage", grid_import: "From grid" };
  var SINK_NODE = { consumption: "Home", storage_charge: "To storage", grid_export: "To grid" };
  var LEVEL_COLORS = ["#0e9f8e", "#c2417a", "#6d28d9", "#b45309"];
  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

  function kwh(wh, digits) {
    return (wh / 1000).toLocaleString(undefined, {
      minimumFractionDigits: digits === undefined ? 2 : digits,
      maximumFractionDigits: digits === undefined ? 2 : digits,
    });
  }

  function energyOption(data) {
    var energy = data.energy;
    var series = [];
    SUPPLY.forEach(function (name) {
      series.push({
        name: NAMES[name], type: "bar", stack: "supply", barMaxWidth: 28,
        itemStyle: { color: COLORS[name] }, emphasis: { focus: "series" },
        data: energy.wh[name].map(function (v) { return v / 1000; }),
      });
    });
    USE.forEach(function (name) {
      series.push({
        name: NAMES[name], type: "bar", stack: "use", barMaxWidth: 28,
        itemStyle: { color: COLORS[name] }, emphasis: { focus: "series" },
        data: energy.wh[name].map(function (v) { return -v / 1000; }),
      });
    });
    var levels = data.levels || [];
    levels.forEach(function (device, i) {
      series.push({
        name: device.name + " level", type: "line", yAxisIndex: 1, smooth: 0.25, symbol: "circle", symbolSize: 5,
        connectNulls: false, lineStyle: { width: 2.5 }, color: LEVEL_COLORS[i % LEVEL_COLORS.length],
        data: device.percent.map(function (v) { return v === null ? null : Math.round(v * 10) / 10; }),
      });
    });
    var yAxis = [{
      type: "value", name: "kWh", nameTextStyle: { align: "right" },
      axisLabel: { formatter: function (v) { return Math.abs(v).toLocaleString(); } },
      splitLine: { lineStyle: { color: "#e7eaf0" } },
    }];
    if (levels.length) {
      yAxis.push({ type: "value", name: "%", min: 0, max: 100, splitLine: { show: false }, axisLabel: { formatter: "{value} %" } });
    }
    return {
      animation: false,
      textStyle: { fontFamily: FONT },
      color: SUPPLY.concat(USE).map(function (n) { return COLORS[n]; }),
      grid: { left: 8, right: 8, top: 36, bottom: levels.length ? 88 : 64, containLabel: true },
      legend: { bottom: 0, type: "plain", itemWidth: 14, itemHeight: 10, itemGap: 12, textStyle: { color: "#334155" } },
      tooltip: {
        trigger: "axis", axisPointer: { type: "shadow" },
        valueFormatter: undefined,
        formatter: function (items) {
          if (!items.length) { return ""; }
          var lines = ["<strong>" + items[0].axisValueLabel + "</strong>"];
          items.forEach(function (item) {
            if (item.value === null || item.value === undefined) { return; }
            var unit = item.seriesType === "line" ? Math.round(item.value) + " %" : kwh(Math.abs(item.value) * 1000) + " kWh";
            lines.push(item.marker + item.seriesName + ": <strong>" + unit + "</strong>");
          });
          return lines.join("<br>");
        },
      },
      xAxis: { type: "category", data: energy.labels, axisTick: { alignWithLabel: true }, axisLine: { lineStyle: { color: "#94a3b8" } } },
      yAxis: yAxis,
      series: series,
    };
  }

  function flowLinks(data) {
    return data.flows.links.filter(function (link) { return link.wh >= 0.5; });
  }

  function flowsOption(data) {
    var links = flowLinks(data);
    if (!links.length) {
      return {
        textStyle: { fontFamily: FONT },
        title: { text: "No energy recorded for this period", left: "center", top: "middle", textStyle: { color: "#64748b", fontSize: 14, fontWeight: "normal" } },
        series: [],
      };
    }
    var used = {};
    links.forEach(function (link) { used[link.source] = "source"; used[link.target] = "sink"; });
    var nodes = [];
    SUPPLY.forEach(function (name) {
      if (used[name] === "source") {
        nodes.push({ name: SOURCE_NODE[name], itemStyle: { color: COLORS[name] }, depth: 0, label: { position: "left", align: "right" } });
      }
    });
    USE.forEach(function (name) {
      if (used[name] === "sink") {
        nodes.push({ name: SINK_NODE[name], itemStyle: { color: COLORS[name] }, depth: 1, label: { position: "right", align: "left" } });
      }
    });
    return {
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          return p.dataType === "edge" ? p.data.source + " → " + p.data.target + ": <strong>" + kwh(p.data.value * 1000) + " kWh</strong>"
                                       : p.name + ": <strong>" + kwh(p.value * 1000) + " kWh</strong>";
        },
      },
      series: [{
        type: "sankey", left: 100, right: 100, top: 8, bottom: 8, nodeWidth: 14, nodeGap: 14, nodeAlign: "justify",
        draggable: false, layoutIterations: 0,
        label: {
          color: "#1e293b", fontSize: 12,
          formatter: function (p) { return "{n|" + p.name + "}\n{v|" + kwh(p.value * 1000) + " kWh}"; },
          rich: { n: { fontWeight: "bold", color: "#1e293b", lineHeight: 17 }, v: { color: "#475569", lineHeight: 17 } },
        },
        lineStyle: { color: "gradient", opacity: 0.35, curveness: 0.5 },
        emphasis: { focus: "adjacency" },
        data: nodes,
        links: links.map(function (link) {
          return { source: SOURCE_NODE[link.source], target: SINK_NODE[link.target], value: link.wh / 1000 };
        }),
      }],
    };
  }

  function cell(tag, text, cls) {
    var el = document.createElement(tag);
    el.textContent = text;
    if (cls) { el.className = cls; }
    return el;
  }

  function flowTable(table, data) {
    var byPair = {};
    data.flows.links.forEach(function (link) { byPair[link.source + ">" + link.target] = link.wh; });
    var totals = data.flows.totals;
    table.replaceChildren();
    var caption = cell("caption", "kWh, from each source (rows) to each use (columns)");
    table.appendChild(caption);
    var head = document.createElement("tr");
    head.appendChild(cell("th", ""));
    USE.forEach(function (sink) { head.appendChild(cell("th", SINK_NODE[sink], "num")); });
    head.appendChild(cell("th", "Total", "num total"));
    var thead = document.createElement("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = document.createElement("tbody");
    SUPPLY.forEach(function (source) {
      var row = document.createElement("tr");
      var th = cell("th", SOURCE_NODE[source]);
      th.insertBefore(cell("span", "", "swatch"), th.firstChild).style.background = COLORS[source];
      row.appendChild(th);
      USE.forEach(function (sink) { row.appendChild(cell("td", kwh(byPair[source + ">" + sink] || 0), "num")); });
      row.appendChild(cell("td", kwh(totals[source]), "num total"));
      body.appendChild(row);
    });
    table.appendChild(body);
    var foot = document.createElement("tr");
    foot.appendChild(cell("th", "Total"));
    var all = 0;
    USE.forEach(function (sink) { foot.appendChild(cell("td", kwh(totals[sink]), "num total")); all += totals[sink]; });
    foot.appendChild(cell("td", kwh(all), "num total grand"));
    var tfoot = document.createElement("tfoot");
    tfoot.appendChild(foot);
    table.appendChild(tfoot);
  }

  function mount(root) {
    var source = document.getElementById(root.getAttribute("data-hems-charts"));
    var data = JSON.parse(source.textContent);
    var energy = echarts.init(root.querySelector('[data-part="energy"]'), null, { renderer: "canvas" });
    var flows = echarts.init(root.querySelector('[data-part="flows"]'), null, { renderer: "canvas" });
    var table = root.querySelector('[data-part="flow-table"]');
    function draw(next) {
      data = next;
      energy.setOption(energyOption(data), true);
      flows.setOption(flowsOption(data), true);
      flowTable(table, data);
      root.setAttribute("data-drawn", String(Date.now()));
    }
    draw(data);
    window.addEventListener("resize", function () { energy.resize(); flows.resize(); });
    return { update: draw, energy: energy, flows: flows, data: function () { return data; } };
  }

  var mounted = [];
  document.querySelectorAll("[data-hems-charts]").forEach(function (root) { mounted.push(mount(root)); });
  window.hemsCharts = {
    charts: mounted,
    update: function (data) { mounted.forEach(function (chart) { chart.update(data); }); },
  };
})();
