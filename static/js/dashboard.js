// Draws the dashboard's trend charts from the JSON the page carries (no requests of its own).
// Each canvas sits alone in a .chart-box whose height the style sheet sets: Chart.js sizes a
// responsive chart from its container, and two charts sharing one container squash each other.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  function read(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }
  var labels = read("chart-labels");
  var colours = { closed: "#adb5bd", fcr: "#0d6efd", sla: "#198754", csat: "#fd7e14",
                  frt: "#0dcaf0", aht: "#dc3545" };

  function line(series, key, axis, label) {
    return { type: "line", label: label || labels[key], data: series[key], yAxisID: axis,
             borderColor: colours[key], backgroundColor: colours[key], cubicInterpolationMode: "monotone",
             spanGaps: true, pointRadius: 2 };
  }

  // Shared by every chart: fill the box, no animation, dates that skip rather than overlap.
  function options(scales) {
    return {
      animation: false, responsive: true, maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
      scales: Object.assign({
        x: { ticks: { autoSkip: true, autoSkipPadding: 12, maxRotation: 0 } }
      }, scales)
    };
  }

  function rates(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !series) { return; }
    new Chart(canvas, {
      data: {
        labels: series.labels,
        datasets: [
          { type: "bar", label: labels.closed, data: series.closed, yAxisID: "count",
            backgroundColor: colours.closed, maxBarThickness: 24 },
          line(series, "fcr", "percent"), line(series, "sla", "percent"),
          line(series, "csat", "percent")
        ]
      },
      options: options({
        count: { position: "right", beginAtZero: true, title: { display: true, text: labels.count },
                 ticks: { precision: 0 }, grid: { drawOnChartArea: false } },
        // Rates are shares: the axis is 0–100 %, whatever the data.
        percent: { position: "left", min: 0, max: 100,
                   ticks: { stepSize: 20, callback: function (value) { return value + " %"; } },
                   title: { display: true, text: labels.percent } }
      })
    });
  }

  function times(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !series) { return; }
    new Chart(canvas, {
      data: { labels: series.labels,
              datasets: [line(series, "frt", "frt", series.frt_label),
                         line(series, "aht", "aht", series.aht_label)] },
      options: options({
        frt: { position: "left", beginAtZero: true, title: { display: true, text: series.frt_label } },
        aht: { position: "right", beginAtZero: true, title: { display: true, text: series.aht_label },
               grid: { drawOnChartArea: false } }
      })
    });
  }

  var daily = read("daily-data");
  var weekly = read("weekly-data");
  rates("chart-daily-rates", daily);
  times("chart-daily-times", daily);
  rates("chart-weekly-rates", weekly);
  times("chart-weekly-times", weekly);
})();
