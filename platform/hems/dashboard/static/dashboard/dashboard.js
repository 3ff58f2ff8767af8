/* The dashboard's live figures: drawn from the JSON the page embeds, then kept current by
   the push stream (GraphQL over graphql-transport-ws at /graphql/, the same access tokens
   as the API; a fresh one comes from POST /dashboard/token/ with the session and CSRF
   token). Each energyStats message also redraws the chart when it shows the period under way. */
(function () {
  "use strict";

  var script = document.getElementById("dashboard-main");
  var live = JSON.parse(document.getElementById("live-data").textContent);
  var csrf = document.querySelector("[data-csrf]").getAttribute("data-csrf");
  var dataUrl = script.getAttribute("data-data-url");
  var showsNow = script.getAttribute("data-current") === "true";
  var token = { value: live.token, expires: Date.now() + live.tokenTtl * 1000 };

  var STATS = "subscription DashboardStats { energyStats { currentProduction currentConsumption " +
    "currentStorage { totalCapacityWh currentLevelWh percentage } currentStorageFlow netGridFlow timestamp } }";
  var DEVICES = "subscription DashboardDevices { devices { id name kind deviceType status statusReason powerW " +
    "... on StorageDevice { capacityWh levelWh percentage flowW } } }";

  function watts(w) {
    return Math.round(w).toLocaleString() + " W";
  }
  function kwh(wh) {
    return (wh / 1000).toLocaleString(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) + " kWh";
  }
  function setText(id, text) {
    var el = document.getElementById(id);
    if (el.textContent !== text) { el.textContent = text; }
  }
  function localTime(iso) {
    return new Date(iso).toLocaleString("en-GB", {
      timeZone: live.timeZone, day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
  }

  function showStats(stats) {
    var storage = stats.currentStorage;
    setText("fig-production", watts(stats.currentProduction));
    setText("fig-consumption", watts(stats.currentConsumption));
    setText("fig-storage", Math.round(storage.percentage) + " %");
    setText("fig-storage-detail", kwh(storage.currentLevelWh) + " of " + kwh(storage.totalCapacityWh));
    document.getElementById("fig-storage-meter").value = storage.percentage;
    var flow = stats.currentStorageFlow;
    setText("fig-flow", (flow > 0.5 ? "+" : "") + watts(flow));
    setText("fig-flow-detail", flow > 0.5 ? "charging" : flow < -0.5 ? "discharging" : "idle");
    var grid = stats.netGridFlow;
    setText("fig-grid", (grid > 0.5 ? "+" : "") + watts(grid));
    setText("fig-grid-detail", grid > 0.5 ? "importing" : grid < -0.5 ? "exporting" : "balanced");
    var time = document.getElementById("stats-time");
    time.setAttribute("datetime", stats.timestamp);
    setText("stats-time", localTime(stats.timestamp));
  }

  var devices = {};
  function deviceRow(device) {
    var row = document.createElement("tr");
    row.setAttribute("data-device", device.id);
    ["name", "kind", "status", "power", "level"].forEach(function (part) {
      var td = document.createElement("td");
      td.className = "c-" + part + (part === "power" || part === "level" ? " num" : "");
      row.appendChild(td);
    });
    return row;
  }
  function fillRow(row, device) {
    var cells = row.children;
    cells[0].textContent = device.name;
    cells[1].textContent = device.kindLabel || device.kind;
    var online = device.status === "ONLINE";
    cells[2].replaceChildren();
    var badge = document.createElement("span");
    badge.className = "badge " + (online ? "on" : "off");
    badge.textContent = online ? "Online" : "Offline";
    cells[2].appendChild(badge);
    if (device.statusReason) {
      var reason = document.createElement("small");
      reason.className = "reason";
      reason.textContent = device.statusReason;
      cells[2].appendChild(reason);
    }
    var power = watts(device.powerW);
    if (device.flowW !== undefined && Math.abs(device.flowW) > 0.5) {
      power += device.flowW > 0 ? " in" : " out";
    }
    cells[3].textContent = power;
    cells[4].textContent = device.capacityWh ? Math.round(device.percentage) + " % · " + kwh(device.levelWh) : "";
  }
  function showDevices(list) {
    var body = document.getElementById("device-rows");
    list.forEach(function (device) {
      var known = devices[device.id] || {};
      var merged = Object.assign({}, known, device);
      if (!merged.kindLabel) { merged.kindLabel = known.kindLabel; }
      devices[device.id] = merged;
      var row = body.querySelector('tr[data-device="' + CSS.escape(device.id) + '"]');
      if (!row) {
        row = deviceRow(merged);
        body.appendChild(row);
      }
      fillRow(row, merged);
    });
    setText("devices-count", Object.keys(devices).length + " devices");
  }

  var refreshing = null;
  function redrawChart() {
    if (!showsNow || refreshing || !window.hemsCharts) { return; }
    refreshing = fetch(dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) { window.hemsCharts.update(data); } })
      .catch(function () { /* the next tick tries again */ })
      .finally(function () { refreshing = null; });
  }

  function freshToken() {
    if (token.expires - Date.now() > 60 * 1000) { return Promise.resolve(token.value); }
    return fetch(live.tokenUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf } })
      .then(function (response) {
        if (response.status === 401 || response.status === 403) { window.location.reload(); }
        if (!response.ok) { throw new Error("token: HTTP " + response.status); }
        return response.json();
      })
      .then(function (body) {
        token = { value: body.token, expires: Date.now() + body.ttl * 1000 };
        return token.value;
      });
  }

  function setState(state, text) {
    var el = document.getElementById("live-state");
    el.setAttribute("data-state", state);
    el.textContent = text;
  }

  // graphql-ws retries dropped connections itself, but not a refusal (4401 when the token
  // has expired, which ends the stream): then start again with a fresh token, backing off.
  var client = null;
  var restartDelay = 1000;
  var restarting = false;
  function restart(event) {
    if (restarting) { return; }
    restarting = true;
    if (event && event.code === 4401) { token.expires = 0; }
    setState("offline", "reconnecting");
    if (client) { client.dispose(); }
    window.setTimeout(function () {
      restarting = false;
      connect();
    }, restartDelay);
    restartDelay = Math.min(restartDelay * 2, 30000);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    client = graphqlWs.createClient({
      url: scheme + window.location.host + live.streamPath,
      lazy: false,
      keepAlive: 20000,
      retryAttempts: Infinity,
      shouldRetry: function () { return true; },
      connectionParams: function () {
        return freshToken().then(function (value) { return { Authorization: "Bearer " + value }; });
      },
      on: {
        connected: function () { setState("live", "live"); restartDelay = 1000; },
        closed: function () { setState("offline", "reconnecting"); },
      },
    });
    var sink = function (handle) {
      return {
        next: function (message) { if (message.data) { handle(message.data); } },
        error: restart,
        complete: function () {},
      };
    };
    client.subscribe({ query: STATS }, sink(function (data) {
      showStats(data.energyStats);
      redrawChart();
      document.body.setAttribute("data-live-updates", String(Number(document.body.getAttribute("data-live-updates") || 0) + 1));
    }));
    client.subscribe({ query: DEVICES }, sink(function (data) { showDevices(data.devices || []); }));
  }

  showStats(live.energyStats);
  showDevices(live.devices);
  if (window.graphqlWs) { connect(); } else { setState("offline", "no live updates"); }
})();
