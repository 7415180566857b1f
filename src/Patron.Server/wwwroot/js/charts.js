// Draws the charts of a page: every element with data-chart="bar" and its data in
// data-chart-data ({ title, categories, values }). ECharts is loaded by the page.
(function () {
    function draw(el) {
        var data = JSON.parse(el.getAttribute("data-chart-data") || "{}");
        var chart = echarts.init(el, null, { renderer: "svg" });
        chart.setOption({
            title: { text: data.title || "", left: "center", textStyle: { fontSize: 14 } },
            tooltip: { trigger: "axis" },
            grid: { left: 40, right: 20, bottom: 30, top: 40 },
            xAxis: { type: "category", data: data.categories || [] },
            yAxis: { type: "value", minInterval: 1 },
            series: [{ type: "bar", data: data.values || [], itemStyle: { color: "#0d6efd" }, label: { show: true, position: "top" } }]
        });
        window.addEventListener("resize", function () { chart.resize(); });
    }
    document.querySelectorAll('[data-chart="bar"]').forEach(draw);
})();
