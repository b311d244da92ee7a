// Draws the dashboard's trend charts from the JSON the page carries (no requests of its own).
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
                  nps: "#6f42c1", frt: "#0dcaf0", aht: "#dc3545" };

  function line(series, key, axis) {
    return { type: "line", label: labels[key], data: series[key], yAxisID: axis,
             borderColor: colours[key], backgroundColor: colours[key], cubicInterpolationMode: "monotone",
             spanGaps: true, pointRadius: 2 };
  }

  function rates(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !series) { return; }
    new Chart(canvas, {
      data: {
        labels: series.labels,
        datasets: [
          { type: "bar", label: labels.closed, data: series.closed, yAxisID: "count",
            backgroundColor: colours.closed },
          line(series, "fcr", "percent"), line(series, "sla", "percent"),
          line(series, "csat", "percent"), line(series, "nps", "percent")
        ]
      },
      options: {
        animation: false, responsive: true, interaction: { mode: "index", intersect: false },
        scales: {
          count: { position: "right", beginAtZero: true, title: { display: true, text: labels.count },
                   grid: { drawOnChartArea: false } },
          percent: { position: "left", suggestedMin: -20, suggestedMax: 100,
                     title: { display: true, text: labels.percent } }
        }
      }
    });
  }

  function times(canvasId, series) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !series) { return; }
    new Chart(canvas, {
      data: { labels: series.labels,
              datasets: [line(series, "frt", "minutes"), line(series, "aht", "hours")] },
      options: {
        animation: false, responsive: true, interaction: { mode: "index", intersect: false },
        scales: {
          minutes: { position: "left", beginAtZero: true, title: { display: true, text: labels.frt } },
          hours: { position: "right", beginAtZero: true, title: { display: true, text: labels.aht },
                   grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  var daily = read("daily-data");
  var weekly = read("weekly-data");
  rates("chart-daily-rates", daily);
  times("chart-daily-times", daily);
  rates("chart-weekly-rates", weekly);
  times("chart-weekly-times", weekly);
})();
