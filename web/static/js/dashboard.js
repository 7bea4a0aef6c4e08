/* Dashboard charts (Apache ECharts, served from /static/vendor: no network needed). */
(function () {
  var el = document.getElementById('dash-data');
  if (!el || !window.echarts) { return; }
  var data = JSON.parse(el.textContent);
  var charts = [];
  var monthly = document.getElementById('chart-monthly');
  if (monthly) {
    var c = echarts.init(monthly);
    c.setOption({
      tooltip: { trigger: 'axis' },
      // one scrolling legend line above the plot; the axis names sit below it
      legend: { data: ['本年成交额', '上年同月', '本年累计'], top: 0, type: 'scroll' },
      grid: { left: 8, right: 8, top: 60, bottom: 8, containLabel: true },
      xAxis: { type: 'category', data: data.months },
      yAxis: [{ type: 'value', name: '万元' }, { type: 'value', name: '累计', splitLine: { show: false } }],
      series: [
        { name: '本年成交额', type: 'bar', data: data.current, itemStyle: { color: '#0b5cad' } },
        { name: '上年同月', type: 'bar', data: data.last_year, itemStyle: { color: '#a7c4e6' } },
        { name: '本年累计', type: 'line', yAxisIndex: 1, data: data.cumulative, smooth: false, itemStyle: { color: '#b54708' } }
      ]
    });
    charts.push(c);
  }
  (data.breakdowns || []).forEach(function (b) {
    var node = document.getElementById(b.id);
    if (!node || !b.data.length) { return; }
    var ch = echarts.init(node);
    ch.setOption({
      tooltip: { trigger: 'item', formatter: '{b}：{c} 万元（{d}%）' },
      series: [{ type: 'pie', radius: ['35%', '65%'], data: b.data, label: { formatter: '{b}' } }]
    });
    charts.push(ch);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
