/* Small progressive enhancements; every page works without them. */
(function () {
  var toggle = document.querySelector('.nav-toggle');
  var nav = document.getElementById('site-nav');
  if (toggle && nav) {
    toggle.addEventListener('click', function () {
      var open = nav.classList.toggle('open');
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }
  // Long operations: forms marked data-busy show a progress indicator and disable submit.
  document.querySelectorAll('form[data-busy]').forEach(function (form) {
    form.addEventListener('submit', function () {
      var box = form.querySelector('.busy');
      if (box) { box.classList.add('on'); }
      form.querySelectorAll('button[type=submit]').forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
  // Back/forward cache: undo the busy state.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('form[data-busy] .busy.on').forEach(function (b) { b.classList.remove('on'); });
    document.querySelectorAll('form[data-busy] button[type=submit]').forEach(function (b) { b.disabled = false; });
  });
  // Bulk selection: a "select all" checkbox.
  document.querySelectorAll('input[data-select-all]').forEach(function (all) {
    all.addEventListener('change', function () {
      document.querySelectorAll('input[name="' + all.dataset.selectAll + '"]').forEach(function (c) { c.checked = all.checked; });
    });
  });
  // Filter panels: open on wide screens, folded on phones.
  if (window.matchMedia && window.matchMedia('(min-width: 700px)').matches) {
    document.querySelectorAll('details[data-open-desktop]').forEach(function (d) { d.open = true; });
  }
  // Reject needs a reason: show the reason picker next to the clicked button.
  document.querySelectorAll('[data-confirm]').forEach(function (el) {
    el.addEventListener('click', function (e) { if (!confirm(el.dataset.confirm)) { e.preventDefault(); } });
  });
})();
