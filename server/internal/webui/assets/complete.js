// complete.js: autocompletion in the query box of the page of apptuit serve.
// ApptuitComplete.attach(textarea, list, {lang, get}) suggests, from the
// text before the cursor,
//
//   Apptuit:  fetch('ord|          metric names
//             fetch('m', {'ci|     tag keys of metric m
//             fetch('m', {'city': 'N|   values of the tag city of m
//   PromQL:   rate(ord|            metric names (a dotted one as {"a.b"})
//             m{ci| or {"m", ci|   label names of m
//             m{city="N|           values of the label city of m
//
// from the server's label API (GET /api/v1/label/__name__/values,
// /api/v1/labels?match[]=..., /api/v1/label/<name>/values?match[]=...),
// each answer cached for 30 s. The list is an ARIA listbox: arrows move,
// Enter or Tab takes a suggestion, Escape closes it, Ctrl+Space opens it.
'use strict';
(function (global) {
  const CACHE_MS = 30e3;
  const MAX_SHOWN = 100;
  const PROM_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const PROM_LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

  // labelPath is the path segment of a label name in
  // /api/v1/label/<name>/values: Prometheus's U__ escaping for names that
  // are not plain identifiers.
  function labelPath(name) {
    if (PROM_LABEL.test(name)) return name;
    let out = 'U__';
    for (const ch of name) {
      if (/[a-zA-Z0-9]/.test(ch)) out += ch;
      else if (ch === '_') out += '__';
      else out += '_' + ch.codePointAt(0).toString(16) + '_';
    }
    return encodeURIComponent(out);
  }

  function unquote(s) { return s.replace(/\\(.)/g, '$1'); }

  function quoteIn(s, q) { return s.replace(/\\/g, '\\\\').replace(new RegExp(q, 'g'), '\\' + q); }

  // contextApptuit reads what to suggest from the Apptuit query before the
  // cursor: {kind, prefix, metric, key, quote}, or null.
  function contextApptuit(before) {
    let m = /fetch\(\s*(['"])((?:\\.|(?!\1)[^\\])*)$/.exec(before);
    if (m) return { kind: 'metric', prefix: unquote(m[2]), quote: m[1] };
    m = /fetch\(\s*(['"])((?:\\.|(?!\1)[^\\])+)\1\s*,\s*\{([^}]*)$/.exec(before);
    if (!m) return null;
    const metric = unquote(m[2]);
    const inner = m[3];
    let t = /(?:^|,)\s*(['"])((?:\\.|(?!\1)[^\\])*)$/.exec(inner);
    if (t) return { kind: 'key', prefix: unquote(t[2]), metric, quote: t[1] };
    t = /(['"])((?:\\.|(?!\1)[^\\])+)\1\s*:\s*(['"])((?:\\.|(?!\3)[^\\])*)$/.exec(inner);
    if (t) {
      const alts = unquote(t[4]).split('|');
      return { kind: 'value', prefix: alts[alts.length - 1], metric, key: unquote(t[2]), quote: t[3] };
    }
    return null;
  }

  // contextPromQL does the same for PromQL.
  function contextPromQL(before) {
    // Inside an unclosed {...}?
    let depth = 0;
    let open = -1;
    let inStr = null;
    for (let i = 0; i < before.length; i++) {
      const c = before[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === inStr) inStr = null;
        continue;
      }
      if (c === '"' || c === "'" || c === '`') inStr = c;
      else if (c === '{') { depth++; open = i; } else if (c === '}') depth = Math.max(0, depth - 1);
    }
    if (depth > 0 && open >= 0) {
      const head = before.slice(0, open);
      const inner = before.slice(open + 1);
      let metric = (/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*$/.exec(head) || [])[1] || '';
      const named = /(?:^|,)\s*(?:__name__\s*=\s*)?"((?:\\.|[^"\\])*)"\s*(?:,|$)/.exec(inner);
      if (!metric && named) metric = unquote(named[1]);
      let t = /([a-zA-Z_][a-zA-Z0-9_]*|"(?:\\.|[^"\\])*")\s*(=~|!~|!=|=)\s*"((?:\\.|[^"\\])*)$/.exec(inner);
      if (t) {
        const key = t[1][0] === '"' ? unquote(t[1].slice(1, -1)) : t[1];
        if (key === '__name__') return { kind: 'metric', prefix: unquote(t[3]), quote: '"', inString: true };
        return { kind: 'value', prefix: unquote(t[3]), metric, key, quote: '"' };
      }
      t = /(?:^|,)\s*"((?:\\.|[^"\\])*)$/.exec(inner);
      if (t && !metric) return { kind: 'metric', prefix: unquote(t[1]), quote: '"', inString: true };
      t = /(?:^|,)\s*([a-zA-Z_][a-zA-Z0-9_]*)?$/.exec(inner);
      if (t) return { kind: 'key', prefix: t[1] || '', metric, quote: '"' };
      return null;
    }
    const m = /(?:^|[^a-zA-Z0-9_:."'])([a-zA-Z_:][a-zA-Z0-9_:.]*)$/.exec(before);
    if (m) return { kind: 'metric', prefix: m[1], quote: '"', bare: true };
    return null;
  }

  // rank keeps the items that contain prefix (case-insensitively), those
  // that start with it first.
  function rank(items, prefix) {
    const p = prefix.toLowerCase();
    const starts = [];
    const contains = [];
    for (const it of items) {
      const l = it.toLowerCase();
      if (l.startsWith(p)) starts.push(it); else if (p && l.includes(p)) contains.push(it);
    }
    return starts.concat(contains);
  }

  function attach(box, list, opts) {
    const cache = new Map(); // path -> {at, promise}
    let items = [];
    let active = -1;
    let ctx = null;
    let seq = 0;

    function get(path) {
      const hit = cache.get(path);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
      const promise = opts.get(path).then((body) => (body && body.data) || []);
      promise.catch(() => cache.delete(path));
      cache.set(path, { at: Date.now(), promise });
      return promise;
    }

    function sourceOf(c) {
      const match = c.metric ? '?' + new URLSearchParams({ 'match[]': '{__name__=' + JSON.stringify(c.metric) + '}' }).toString() : '';
      if (c.kind === 'metric') return get('/api/v1/label/__name__/values');
      if (c.kind === 'key') return get('/api/v1/labels' + match).then((l) => l.filter((n) => n !== '__name__'));
      return get('/api/v1/label/' + labelPath(c.key) + '/values' + match);
    }

    function close() {
      list.hidden = true;
      list.textContent = '';
      box.setAttribute('aria-expanded', 'false');
      box.removeAttribute('aria-activedescendant');
      items = [];
      active = -1;
      ctx = null;
    }

    // update suggests for the text before the cursor.
    async function update(force) {
      const before = box.value.slice(0, box.selectionStart);
      const c = box.selectionStart === box.selectionEnd
        ? (opts.lang() === 'promql' ? contextPromQL(before) : contextApptuit(before)) : null;
      if (!c || (!force && c.kind === 'metric' && c.bare && c.prefix.length < 1)) {
        close();
        return;
      }
      const mine = ++seq;
      let all;
      try {
        all = await sourceOf(c);
      } catch (e) {
        close();
        return;
      }
      if (mine !== seq || document.activeElement !== box) return;
      const found = rank(all, c.prefix);
      if (found.length === 0 || (found.length === 1 && found[0] === c.prefix)) {
        close();
        return;
      }
      ctx = c;
      items = found.slice(0, MAX_SHOWN);
      active = 0;
      list.textContent = '';
      list.dataset.kind = c.kind;
      items.forEach((it, i) => {
        const li = document.createElement('li');
        li.id = 'q-complete-' + i;
        li.setAttribute('role', 'option');
        li.textContent = it;
        li.addEventListener('mousedown', (ev) => {
          ev.preventDefault(); // keep the focus in the box
          active = i;
          accept();
        });
        list.appendChild(li);
      });
      if (found.length > items.length) {
        const li = document.createElement('li');
        li.className = 'more';
        li.setAttribute('aria-disabled', 'true');
        li.textContent = `… ${found.length - items.length} more; type to narrow`;
        list.appendChild(li);
      }
      list.hidden = false;
      box.setAttribute('aria-expanded', 'true');
      highlight();
    }

    function highlight() {
      [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === active)));
      const li = list.children[active];
      if (li) {
        box.setAttribute('aria-activedescendant', li.id);
        li.scrollIntoView({ block: 'nearest' });
      }
    }

    // accept replaces the word being typed with the suggestion, closes its
    // quote, and goes on to the next suggestion where one follows (a key's
    // values).
    function accept() {
      const c = ctx;
      const it = items[active];
      if (!c || it === undefined) return;
      const start = box.selectionStart;
      const after = box.value.slice(start);
      let text;
      let next = false;
      let skip = 0; // characters after the cursor that the insertion replaces
      const q = c.quote;
      const closes = after.startsWith(q);
      if (c.kind === 'metric' && c.bare) {
        text = PROM_NAME.test(it) ? it : '{' + JSON.stringify(it) + '}';
      } else if (c.kind === 'key' && opts.lang() === 'promql') {
        text = (PROM_LABEL.test(it) ? it : JSON.stringify(it)) + '="';
        next = true;
      } else if (c.kind === 'key') {
        text = quoteIn(it, q) + q + ': ' + q;
        skip = closes ? 1 : 0;
        next = true;
      } else {
        text = quoteIn(it, q) + q;
        skip = closes ? 1 : 0;
      }
      const plain = (c.kind === 'metric' && c.bare) || (c.kind === 'key' && opts.lang() === 'promql'); // an identifier, no quotes
      const from = start - (plain ? c.prefix.length : rawLength(box.value.slice(0, start), c));
      box.setRangeText(text, from, start + skip, 'end');
      box.dispatchEvent(new Event('input', { bubbles: true }));
      close();
      if (next) update(true);
    }

    // rawLength is the length in the box of the prefix as typed (with its
    // escapes) before the cursor.
    function rawLength(before, c) {
      const q = c.quote;
      let i = before.length;
      while (i > 0) {
        const ch = before[i - 1];
        if (ch === q && before[i - 2] !== '\\') break;
        if (c.kind === 'value' && ch === '|' && opts.lang() !== 'promql') break;
        i--;
      }
      return before.length - i;
    }

    box.addEventListener('input', () => update(false));
    box.addEventListener('click', () => { if (!list.hidden) update(false); });
    box.addEventListener('blur', () => setTimeout(() => { if (document.activeElement !== box) close(); }, 100));
    box.addEventListener('keydown', (ev) => {
      if (ev.key === ' ' && ev.ctrlKey) {
        ev.preventDefault();
        update(true);
        return;
      }
      if (list.hidden || items.length === 0) return;
      if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
        ev.preventDefault();
        active = (active + (ev.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length;
        highlight();
      } else if ((ev.key === 'Enter' && !ev.ctrlKey && !ev.metaKey) || ev.key === 'Tab') {
        ev.preventDefault();
        ev.stopImmediatePropagation();
        accept();
      } else if (ev.key === 'Escape') {
        ev.preventDefault();
        close();
      }
    });
    return { close, update };
  }

  global.ApptuitComplete = { attach, contextApptuit, contextPromQL, labelPath };
})(window);
