(function () {
  var box = document.getElementById('filter');
  var cols = Array.prototype.slice.call(document.querySelectorAll('tr.perms th'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('tbody tr'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('thead th[data-span]'));
  function apply() {
    var q = box.value.trim().toLowerCase();
    var colHit = cols.map(function (c) { return !q || c.dataset.f.indexOf(q) >= 0; });
    var rowHit = rows.map(function (r) { return !q || r.dataset.f.indexOf(q) >= 0; });
    var anyCol = colHit.some(Boolean), anyRow = rowHit.some(Boolean);
    var showCol = colHit.map(function (h) { return anyCol ? h : anyRow; });
    var showRow = rowHit.map(function (h) { return anyRow ? h : anyCol; });
    cols.forEach(function (c, i) { c.classList.toggle('hidden', !showCol[i]); });
    rows.forEach(function (r, j) {
      r.classList.toggle('hidden', !showRow[j]);
      Array.prototype.forEach.call(r.querySelectorAll('td'), function (td, i) { td.classList.toggle('hidden', !showCol[i]); });
    });
    groups.forEach(function (g) {
      var a = +g.dataset.start, n = 0;
      for (var i = a; i < a + +g.dataset.span; i++) { if (showCol[i]) n++; }
      g.colSpan = Math.max(n, 1); g.classList.toggle('hidden', n === 0);
    });
    document.getElementById('empty').classList.toggle('hidden', anyCol || anyRow);
  }
  box.addEventListener('input', apply);
  apply(); // a value the browser restored
})();
