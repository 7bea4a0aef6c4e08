/* Region picker: an <input data-region-picker> holding a six-digit GB/T 2260 code gets
   province → city → county selects (the table comes from /regions.json, served locally).
   The input keeps the submitted value; without JavaScript it stays a plain code field.
   data-region-any[="text"]: the first choice is that text or "全部地区" (filters: no region);
   otherwise "请选择省份" (forms).
   data-region-within="330400": the choices stay inside that region (a bureau's jurisdiction, from
   the core service): the levels down to it are fixed, the picker offers only what lies below. */
(function () {
  var inputs = document.querySelectorAll('input[data-region-picker]');
  if (!inputs.length || !window.fetch) { return; }
  fetch('/regions.json', { credentials: 'same-origin' })
    .then(function (r) { return r.json(); })
    .then(function (tree) { Array.prototype.forEach.call(inputs, function (inp) { build(inp, tree); }); })
    .catch(function () { /* the code field still works */ });

  function find(items, code) {
    for (var i = 0; i < items.length; i++) { if (items[i][0] === code) { return items[i]; } }
    return null;
  }

  function build(inp, tree) {
    var any = inp.hasAttribute('data-region-any');
    var within = inp.getAttribute('data-region-within') || '';
    // how many levels are fixed: province 1, city 2, county (or a county-level city) 3
    var fixed = !within ? 0 : /0000$/.test(within) ? 1 : /00$/.test(within) ? 2 : 3;
    var label = document.querySelector('label[for="' + inp.id + '"]');
    var name = label ? label.textContent.replace(/代码|（.*?）/g, '') : '地区';
    var wrap = document.createElement('div');
    wrap.className = 'region-picker';
    var parts = ['省', '市', '县（区）'];
    var sels = parts.map(function (part, i) {
      var s = document.createElement('select');
      s.id = inp.id + '-' + ['p', 'c', 'd'][i];
      s.setAttribute('aria-label', name + '：' + part);
      s.setAttribute('data-level', String(i));
      wrap.appendChild(s);
      return s;
    });
    function fill(sel, items, first, i) {
      sel.textContent = '';
      var o = document.createElement('option');
      o.value = '';
      o.textContent = first;
      sel.appendChild(o);
      (items || []).forEach(function (it) {
        var op = document.createElement('option');
        op.value = it[0];
        op.textContent = it[1];
        sel.appendChild(op);
      });
      sel.disabled = !items || !items.length || i < fixed;
    }
    function show(code) {
      if (within && code.indexOf(within.slice(0, [2, 4, 6][fixed - 1])) !== 0) { code = within; }
      var p = code ? find(tree, code.slice(0, 2) + '0000') : null;
      fill(sels[0], tree, any ? (inp.getAttribute('data-region-any') || '全部地区') : '请选择省份', 0);
      sels[0].value = p ? p[0] : '';
      var c = p ? (find(p[2], code.slice(0, 4) + '00') || find(p[2], code)) : null;
      fill(sels[1], p ? p[2] : [], p ? '全省' : '—', 1);
      sels[1].value = c ? c[0] : '';
      fill(sels[2], c ? c[2] : [], c ? '全市' : '—', 2);
      sels[2].value = c && code !== c[0] && find(c[2], code) ? code : '';
    }
    sels.forEach(function (s, i) {
      s.addEventListener('change', function () {
        var code = s.value || (i > 0 ? sels[i - 1].value : '');
        inp.value = code;
        show(code);
        inp.dispatchEvent(new Event('change', { bubbles: true }));
      });
    });
    if (within && !inp.value.trim()) { inp.value = within; }
    show(inp.value.trim());
    inp.classList.add('region-code');
    inp.parentNode.insertBefore(wrap, inp);
    inp.setAttribute('aria-label', name + '代码');
  }
})();
