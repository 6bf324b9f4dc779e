/*
 * tidewatch web view: the overview, a topic and the alerts timeline,
 * drawn from the JSON API (/api/, docs/web.md) with plain DOM calls.
 * Every text that comes from the API (names, tags, keywords, values,
 * post texts) is set with textContent or as an SVG attribute value, never
 * parsed as HTML.  Charts are hand-drawn SVG.  No third-party code.
 * The same script draws a backtest report (tidewatch backtest --html)
 * from the JSON inlined in that file.
 */
'use strict';

const SVGNS = 'http://www.w3.org/2000/svg';
const REFRESH_MS = 10000;
const RANGES = [['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800]];
let timer = null;

/* ---- DOM helpers ---- */

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {}))
		if (k === 'text')
			e.textContent = v;
		else if (k === 'onclick' || k === 'onchange')
			e.addEventListener(k.slice(2), v);
		else
			e.setAttribute(k, v);
	for (const k of kids)
		if (k != null)
			e.append(k);
	return e;
}

function svg(tag, attrs) {
	const e = document.createElementNS(SVGNS, tag);
	for (const [k, v] of Object.entries(attrs || {}))
		e.setAttribute(k, String(v));
	return e;
}

/* one formatter per number of digits: making one per call is slow */
const formats = {};
function fmt(v, digits) {
	if (v == null)
		return '–';
	if (typeof v !== 'number')
		return String(v);
	const d = digits ?? 1;
	formats[d] ??= new Intl.NumberFormat('en-US', { maximumFractionDigits: d });
	return formats[d].format(v);
}

function ratioText(t) {
	if (t.baseline === 0)
		return t.count > 0 ? 'new' : '–';
	return t.ratio != null ? '×' + fmt(t.ratio, 1) : '–';
}

function clock(sec, withDate) {
	const d = new Date(sec * 1000);
	const p = (n) => String(n).padStart(2, '0');
	const hm = p(d.getHours()) + ':' + p(d.getMinutes());
	return withDate ? (d.getMonth() + 1) + '/' + d.getDate() + ' ' + hm : hm;
}

function duration(s) {
	if (s % 86400 === 0) return s / 86400 + 'd';
	if (s % 3600 === 0) return s / 3600 + 'h';
	if (s % 60 === 0) return s / 60 + 'm';
	return s + 's';
}

function status(text, isError) {
	const s = document.getElementById('status');
	s.textContent = text;
	s.className = isError ? 'error' : '';
}

async function api(path) {
	const r = await fetch(path, { headers: { Accept: 'application/json' },
	    credentials: 'same-origin' });
	const body = await r.json().catch(() => ({ error: r.statusText }));
	if (!r.ok)
		throw new Error(body.error || r.statusText);
	return body;
}

function badge(state) {
	return el('span', { class: 'badge ' + state, text: state });
}

/* ---- overview ---- */

function sparkline(values, w, h) {
	const s = svg('svg', { class: 'spark', width: w, height: h,
	    viewBox: `0 0 ${w} ${h}`, 'aria-hidden': 'true' });
	const max = Math.max(1, ...values);
	const pts = values.map((v, i) => (i * (w - 2) / Math.max(1, values.length - 1) + 1).toFixed(1) +
	    ',' + (h - 1 - v * (h - 2) / max).toFixed(1));
	s.append(svg('polyline', { points: pts.join(' ') }));
	return s;
}

function overviewRow(t) {
	const tags = el('td');
	for (const g of t.tags)
		tags.append(el('span', { class: 'tag', text: g }));
	return el('tr', { class: 'state-' + t.state, 'data-topic': t.id,
	    'data-state': t.state },
	    el('td', {}, badge(t.state)),
	    el('td', {}, el('a', { href: '/topics/' + encodeURIComponent(t.id),
		text: t.name }), el('div', { class: 'muted', text: t.id })),
	    tags,
	    el('td', {}, sparkline(t.spark, 200, 28)),
	    el('td', { class: 'num', text: fmt(t.count, 0) }),
	    el('td', { class: 'num', text: fmt(t.baseline, 1) }),
	    el('td', { class: 'num', text: ratioText(t) }),
	    el('td', { class: 'num', text: duration(t.window_s) }));
}

async function overview(main) {
	const params = new URLSearchParams(location.search);
	const tag = params.get('tag') || '';
	const q = tag ? '?tag=' + encodeURIComponent(tag) : '';
	const d = await api('/api/topics' + q);
	const select = el('select', { id: 'tag', 'aria-label': 'tag',
	    onchange: (ev) => {
		const v = ev.target.value;
		history.pushState(null, '', v ? '/?tag=' + encodeURIComponent(v) : '/');
		route();
	    } }, el('option', { value: '', text: 'every tag' }));
	for (const g of d.tags) {
		const o = el('option', { value: g, text: g });
		if (g === tag)
			o.selected = true;
		select.append(o);
	}
	const firing = d.topics.filter((t) => t.state === 'firing').length;
	const body = el('tbody', { id: 'topics' });
	for (const t of d.topics)
		body.append(overviewRow(t));
	const span = duration(Math.max(60, Math.round((d.time - d.spark_from) / 60) * 60));
	main.replaceChildren(
	    el('h1', { text: 'Topics' }),
	    el('div', { class: 'toolbar' }, select,
		el('span', { class: 'muted', text: `${d.topics.length} topics, ` +
		    `${firing} firing · stream time ${clock(d.time, true)} · ` +
		    'sorted by ratio to baseline' })),
	    el('table', {},
		el('thead', {}, el('tr', {},
		    el('th', { text: 'State' }), el('th', { text: 'Topic' }),
		    el('th', { text: 'Tags' }), el('th', { text: `Last ${span}` }),
		    el('th', { class: 'num', text: 'Posts now' }),
		    el('th', { class: 'num', text: 'Baseline' }),
		    el('th', { class: 'num', text: 'Ratio' }),
		    el('th', { class: 'num', text: 'Window' }))),
		body));
	document.title = firing ? `(${firing}) tidewatch` : 'tidewatch';
}

/* ---- a topic ---- */

function chart(d, onZoom) {
	const W = 1000, H = 300, L = 48, R = 12, T = 12, B = 26;
	const s = d.series, n = s.t.length;
	const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'trend',
	    preserveAspectRatio: 'none', role: 'img',
	    'aria-label': 'posts per window against the baseline' });
	let top = 1;
	for (let i = 0; i < n; i++)
		top = Math.max(top, s.count[i], (s.mean[i] ?? 0) + (s.sd[i] ?? 0));
	/* y ticks at 1, 2 or 5 times a power of ten, about four of them */
	const pow = Math.pow(10, Math.floor(Math.log10(top / 4)));
	const tick = [1, 2, 5, 10].map((m) => m * pow).find((t) => top / t <= 5);
	const ymax = Math.ceil(top * 1.05 / tick) * tick;
	const x = (t) => L + (t - d.from) * (W - L - R) / Math.max(1, d.to - d.from);
	const y = (v) => H - B - v * (H - T - B) / ymax;
	for (let v = 0; v <= ymax + tick / 2; v += tick) {
		root.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: y(v), y2: y(v) }));
		const lab = svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end' });
		lab.textContent = fmt(v, tick < 1 ? 1 : 0);
		root.append(lab);
	}
	const span = d.to - d.from;
	for (let k = 0; k <= 6; k++) {
		const t = d.from + span * k / 6;
		const lab = svg('text', { x: x(t), y: H - 8,
		    'text-anchor': k === 0 ? 'start' : k === 6 ? 'end' : 'middle' });
		lab.textContent = clock(t, span > 86400);
		root.append(lab);
	}
	/* the baseline band: mean ± one deviation, where there is a baseline */
	let upper = [], lower = [], mean = [];
	const flush = () => {
		if (upper.length > 1)
			root.append(svg('polygon', { class: 'band',
			    points: upper.concat(lower.reverse()).join(' ') }));
		if (mean.length > 1)
			root.append(svg('polyline', { class: 'mean', points: mean.join(' ') }));
		upper = []; lower = []; mean = [];
	};
	for (let i = 0; i < n; i++) {
		if (s.mean[i] == null) {
			flush();
			continue;
		}
		const sd = s.sd[i] ?? 0;
		upper.push(x(s.t[i]).toFixed(1) + ',' + y(s.mean[i] + sd).toFixed(1));
		lower.push(x(s.t[i]).toFixed(1) + ',' + y(Math.max(0, s.mean[i] - sd)).toFixed(1));
		mean.push(x(s.t[i]).toFixed(1) + ',' + y(s.mean[i]).toFixed(1));
	}
	flush();
	root.append(svg('polyline', { class: 'count', points: s.t.map((t, i) =>
	    x(t).toFixed(1) + ',' + y(s.count[i]).toFixed(1)).join(' ') }));
	for (const a of d.alerts) {
		const at = Date.parse(a.alert.window_end) / 1000;
		if (!(at >= d.from && at <= d.to))
			continue;
		const g = svg('g', { class: 'alert-marker ' + (a.alert.state || ''),
		    'data-state': a.alert.state || '' });
		const title = svg('title');
		title.textContent = `${a.alert.state} at ${clock(at, true)}: ` +
		    `${a.alert.count} posts (×${fmt(a.alert.ratio)})`;
		g.append(title, svg('line', { x1: x(at), x2: x(at), y1: T, y2: H - B }),
		    svg('path', { d: `M${x(at) - 6},${T} L${x(at) + 6},${T} L${x(at)},${T + 9}Z` }));
		root.append(g);
	}
	if (!onZoom)
		return root;
	/* zoom: drag across the chart */
	const sel = svg('rect', { class: 'select', x: 0, y: T, width: 0,
	    height: H - T - B, visibility: 'hidden' });
	root.append(sel);
	const toX = (ev) => {
		const r = root.getBoundingClientRect();
		return (ev.clientX - r.left) * W / r.width;
	};
	let x0 = null;
	root.addEventListener('mousedown', (ev) => {
		x0 = toX(ev);
		sel.setAttribute('visibility', 'visible');
		sel.setAttribute('x', x0);
		sel.setAttribute('width', 0);
	});
	root.addEventListener('mousemove', (ev) => {
		if (x0 == null)
			return;
		const x1 = toX(ev);
		sel.setAttribute('x', Math.min(x0, x1));
		sel.setAttribute('width', Math.abs(x1 - x0));
	});
	root.addEventListener('mouseup', (ev) => {
		if (x0 == null)
			return;
		const a = Math.min(x0, toX(ev)), b = Math.max(x0, toX(ev));
		x0 = null;
		sel.setAttribute('visibility', 'hidden');
		if (b - a < 8)
			return;
		const t = (px) => Math.round(d.from + (px - L) * (d.to - d.from) / (W - L - R));
		onZoom(Math.max(d.from, t(a)), Math.min(d.to, t(b)));
	});
	return root;
}

function topList(items) {
	if (!items.length)
		return el('p', { class: 'muted', text: 'none in this range' });
	const max = Math.max(1, ...items.map((i) => i.count));
	const body = el('tbody');
	for (const i of items) {
		/* widths through CSSOM: the CSP refuses style attributes */
		const bar = el('div', { class: 'bar' });
		bar.style.width = Math.round(i.count * 100 / max) + '%';
		body.append(el('tr', {}, el('td', { text: i.name }),
		    el('td', { class: 'num', text: fmt(i.count, 0) }),
		    el('td', { class: 'barcell' }, bar)));
	}
	return el('table', {}, body);
}

function sampleList(samples) {
	if (!samples.length)
		return el('p', { class: 'muted', text: 'no samples in this range' });
	const ul = el('ul', { class: 'samples', id: 'samples' });
	for (const p of samples) {
		const meta = [p.id, p.time, p.author].filter((v) => v != null).join(' · ');
		ul.append(el('li', { class: 'sample' },
		    el('span', { class: 'text', text: p.text ?? '' }),
		    el('span', { class: 'meta', text: meta })));
	}
	return ul;
}

async function topic(main, id) {
	const params = new URLSearchParams(location.search);
	const q = new URLSearchParams();
	for (const k of ['from', 'to'])
		if (params.get(k))
			q.set(k, params.get(k));
	const d = await api('/api/topics/' + encodeURIComponent(id) +
	    (q.toString() ? '?' + q : ''));
	const go = (from, to) => {
		const u = new URLSearchParams();
		if (from) u.set('from', from);
		if (to) u.set('to', to);
		history.pushState(null, '', location.pathname + (from ? '?' + u : ''));
		route();
	};
	const span = d.to - d.from;
	const bar = el('div', { class: 'toolbar' });
	for (const [label, s] of RANGES)
		bar.append(el('button', { class: Math.abs(span - s) < s / 10 &&
		    !params.get('to') ? 'on' : '', text: label,
		    onclick: () => go(d.time - s, null) }));
	if (params.get('from'))
		bar.append(el('button', { text: 'reset zoom', onclick: () => go(null, null) }));
	bar.append(el('span', { class: 'muted', text: `${clock(d.from, true)} – ` +
	    `${clock(d.to, true)}, a point every ${duration(d.step)}; drag on the chart to zoom` }));
	const tags = el('span');
	for (const g of d.tags)
		tags.append(el('span', { class: 'tag', text: g }));
	const by = el('div', { class: 'cards' });
	for (const [field, items] of Object.entries(d.breakdowns))
		by.append(el('div', { class: 'card' }, el('h2', { text: 'By ' + field }),
		    topList(items)));
	main.replaceChildren(
	    el('h1', {}, badge(d.state), ' ', el('span', { text: d.name }), ' ', tags),
	    el('div', { class: 'facts' },
		el('div', {}, el('b', { text: fmt(d.count, 0) }), `posts in the last ${duration(d.window_s)}`),
		el('div', {}, el('b', { text: fmt(d.baseline, 1) }), 'baseline per window'),
		el('div', {}, el('b', { text: ratioText(d) }), 'ratio'),
		el('div', {}, el('b', { text: String(d.alerts.length) }), 'alerts in range'),
		el('div', { id: 'distinct', title: `whole hours ${clock(d.distinct.from, true)} – ` +
		    `${clock(d.distinct.to, true)}: ${fmt(d.distinct.posts, 0)} posts` },
		    el('b', { text: `${fmt(d.distinct.authors, 0)} / ${fmt(d.distinct.texts, 0)}` }),
		    'authors / texts in range')),
	    bar,
	    el('div', { class: 'chart' }, Object.assign(chart(d, go), { id: 'chart' }),
		el('div', { class: 'legend' },
		    el('span', { text: `— posts per ${duration(d.window_s)} window` }),
		    el('span', { text: '┅ baseline, band ± one deviation' }),
		    el('span', { text: '▼ alert (red firing, green resolved)' }))),
	    el('div', { class: 'cards' },
		el('div', { class: 'card' }, el('h2', { text: 'Top keywords' }), topList(d.keywords)),
		...by.children),
	    el('h2', { text: 'Sample posts' }), sampleList(d.samples),
	    el('h2', {}, 'Rule ', el('span', { class: 'muted', id: 'rule-where',
		text: `${d.file}:${d.line}` })),
	    el('pre', { class: 'rule', text: d.rule }));
	document.title = d.name + ' · tidewatch';
}

/* ---- alerts timeline ---- */

function alertTable(list, id, links) {
	const body = el('tbody', { id });
	for (const { entry, alert: a } of list) {
		const when = a.window_end ? Date.parse(a.window_end) / 1000 : Number(entry.split('-')[0]) / 1000;
		body.append(el('tr', { class: 'state-' + (a.state || '') },
		    el('td', { text: clock(when, true) }),
		    el('td', {}, badge(a.state || 'alert')),
		    /* a rule's topic links to its page; the daemon's own alerts
		     * (_ops, _digest: no rule) and digests are named only */
		    el('td', {}, a.topic && !a.topic.startsWith('_') && links ?
			el('a', { href: '/topics/' + encodeURIComponent(a.topic),
			    text: a.name || a.topic }) :
			el('span', { text: a.name || a.topic ||
			    (Array.isArray(a.alerts) ? `digest of ${a.alerts.length} alerts` : '') })),
		    el('td', { text: a.severity || '' }),
		    el('td', { class: 'num', text: fmt(a.count, 0) }),
		    el('td', { class: 'num', text: a.ratio != null ? '×' + fmt(a.ratio) : '–' }),
		    el('td', { text: a.condition || '' })));
	}
	return el('table', {}, el('thead', {}, el('tr', {},
	    el('th', { text: 'Window end' }), el('th', { text: 'State' }),
	    el('th', { text: 'Topic' }), el('th', { text: 'Severity' }),
	    el('th', { class: 'num', text: 'Count' }),
	    el('th', { class: 'num', text: 'Ratio' }),
	    el('th', { text: 'Condition' }))), body);
}

async function alerts(main) {
	const d = await api('/api/alerts');
	main.replaceChildren(el('h1', { text: 'Alerts' }),
	    el('p', { class: 'muted', text: `${d.alerts.length} alert${d.alerts.length === 1 ? '' : 's'}` +
		' of the last 7 days, newest first' }),
	    d.alerts.length ? alertTable(d.alerts, 'alerts', true) :
	    el('p', { text: 'No alert yet.' }));
	document.title = 'Alerts · tidewatch';
}

/* ---- a backtest report (tidewatch backtest --html): the data is in the
 * file, nothing is fetched ---- */

function report(data) {
	const main = document.getElementById('main');
	const topics = data.topics.slice().sort((a, b) =>
	    b.alerts.length - a.alerts.length || b.peak - a.peak);
	const parts = [el('h1', { text: 'Backtest report' }),
	    el('p', { class: 'muted', text: `${topics.length} topics; the rules ` +
		`would have sent ${data.nalerts} alert${data.nalerts === 1 ? '' : 's'}` +
		' (firing, repeat and resolved); topics with alerts first' })];
	for (const t of topics) {
		const fired = t.alerts.filter((a) => a.alert.state === 'firing').length;
		const tags = el('span');
		for (const g of t.tags)
			tags.append(el('span', { class: 'tag', text: g }));
		parts.push(el('section', { class: 'report-topic', 'data-topic': t.id },
		    el('h2', {}, el('span', { class: 'badge ' + (fired ? 'firing' : 'ok'),
			text: fired + (fired === 1 ? ' alert' : ' alerts') }), ' ',
			el('span', { text: t.name }), ' ', tags, ' ',
			el('span', { class: 'muted', text: `${t.posts} posts · ` +
			    `peak ${t.peak} per ${duration(t.window_s)} · ${t.file}:${t.line}` })),
		    t.series ? el('div', { class: 'chart' }, chart(t, null)) :
			el('p', { class: 'muted', text: 'no posts counted' }),
		    t.alerts.length ? alertTable(t.alerts, 'alerts-' + t.id, false) : null));
	}
	main.replaceChildren(...parts);
	status('generated ' + new Date(data.generated * 1000).toLocaleString());
	document.body.dataset.ready = '1';
}

/* ---- routing ---- */

async function route() {
	const main = document.getElementById('main');
	const path = location.pathname;
	clearTimeout(timer);
	document.getElementById('nav-topics').className = path === '/' ? 'on' : '';
	document.getElementById('nav-alerts').className = path === '/alerts' ? 'on' : '';
	try {
		if (path.startsWith('/topics/'))
			await topic(main, decodeURIComponent(path.slice(8)));
		else if (path === '/alerts')
			await alerts(main);
		else
			await overview(main);
		status('updated ' + new Date().toLocaleTimeString());
		/* when the first view was drawn, ms after navigation (measured by
		 * the tests) */
		document.body.dataset.drawnMs ??= Math.round(performance.now());
		document.body.dataset.ready = '1';
	} catch (e) {
		status(e.message, true);
		main.replaceChildren(el('p', { class: 'error', text: 'Cannot load: ' + e.message }));
	}
	/* live pages refresh; a zoomed range stays as it is */
	if (!new URLSearchParams(location.search).get('to'))
		timer = setTimeout(route, REFRESH_MS);
}

const reportData = document.getElementById('report-data');
if (reportData) {
	report(JSON.parse(reportData.textContent));
} else {
	window.addEventListener('popstate', route);
	document.addEventListener('click', (ev) => {
		const a = ev.target.closest('a');
		if (a && a.origin === location.origin && !ev.ctrlKey && !ev.metaKey) {
			ev.preventDefault();
			history.pushState(null, '', a.pathname + a.search);
			route();
		}
	});
	route();
}
