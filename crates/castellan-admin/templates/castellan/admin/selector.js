// Two-pane selectors (Django's filter_horizontal), built over a list of checkboxes so the page
// works without JavaScript: each [data-selector] container's checkboxes ([data-choice]) become
// an "Available" and a "Chosen" list with search boxes. Moving an entry ticks or unticks its
// checkbox, which the form submits as before; filtering happens here, so nothing changed is lost.
// Locked entries (disabled checkboxes) show their reason and cannot move.
(function () {
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }
  document.querySelectorAll('[data-selector]').forEach(function (box, n) {
    var boxes = Array.prototype.slice.call(box.querySelectorAll('input[type=checkbox][data-choice]'));
    if (!boxes.length || boxes.every(function (b) { return b.disabled; })) return;
    var name = box.getAttribute('data-selector');
    var id = 'sel' + n;
    var ui = el('div', { 'class': 'selector', 'data-testid': 'selector-' + name });
    function pane(kind, title) {
      var p = el('div', { 'class': 'selector-pane selector-' + kind });
      var h = el('h3', { id: id + '-' + kind + '-h' }, title);
      var f = el('input', { type: 'search', id: id + '-' + kind + '-q', placeholder: 'Filter',
        'aria-label': 'Filter ' + title.toLowerCase() + ' ' + name, 'data-testid': 'selector-' + name + '-' + kind + '-filter' });
      var s = el('select', { multiple: '', size: '12', id: id + '-' + kind, 'aria-labelledby': id + '-' + kind + '-h',
        'data-testid': 'selector-' + name + '-' + kind });
      p.appendChild(h); p.appendChild(f); p.appendChild(s);
      return { root: p, heading: h, filter: f, list: s, title: title };
    }
    var avail = pane('available', 'Available');
    var chosen = pane('chosen', 'Chosen');
    var moves = el('div', { 'class': 'selector-moves' });
    function button(label, testid, handler) {
      var b = el('button', { type: 'button', 'class': 'secondary', 'data-testid': 'selector-' + name + '-' + testid }, label);
      b.addEventListener('click', handler);
      moves.appendChild(b);
    }
    function render() {
      [avail, chosen].forEach(function (p) {
        var q = p.filter.value.trim().toLowerCase();
        var keep = {};
        Array.prototype.forEach.call(p.list.selectedOptions, function (o) { keep[o.value] = true; });
        p.list.textContent = '';
        var count = 0;
        boxes.forEach(function (b, i) {
          if (b.checked !== (p === chosen)) return;
          count += 1;
          var text = b.getAttribute('data-choice');
          var lock = b.disabled ? b.getAttribute('data-lock') || 'locked' : '';
          if (q && text.toLowerCase().indexOf(q) < 0) return;
          var o = el('option', { value: String(i) }, lock ? text + ' — locked: ' + lock : text);
          if (lock) { o.disabled = true; o.title = lock; }
          if (keep[o.value]) o.selected = true;
          p.list.appendChild(o);
        });
        p.heading.textContent = p.title + ' (' + count + ')';
      });
    }
    function move(from, check, all) {
      var opts = all ? from.list.options : from.list.selectedOptions;
      Array.prototype.slice.call(opts).forEach(function (o) {
        var b = boxes[Number(o.value)];
        if (b && !b.disabled) b.checked = check;
      });
      render();
    }
    button('Choose \u2192', 'choose', function () { move(avail, true, false); });
    button('\u2190 Remove', 'remove', function () { move(chosen, false, false); });
    button('Choose all shown', 'choose-all', function () { move(avail, true, true); });
    button('Remove all shown', 'remove-all', function () { move(chosen, false, true); });
    avail.list.addEventListener('dblclick', function () { move(avail, true, false); });
    chosen.list.addEventListener('dblclick', function () { move(chosen, false, false); });
    [avail, chosen].forEach(function (p) { p.filter.addEventListener('input', render); });
    ui.appendChild(avail.root); ui.appendChild(moves); ui.appendChild(chosen.root);
    var fallback = box.querySelector('[data-selector-fallback]');
    box.insertBefore(ui, fallback);
    box.querySelectorAll('[data-selector-fallback], [data-selector-nojs]').forEach(function (e) { e.hidden = true; });
    render();
  });
})();
