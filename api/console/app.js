// Accrual operator console: no build step, no dependencies. Every data call
// carries the key from sessionStorage; charts are inline SVG drawn here.
"use strict";
(function () {
  const KEY = "accrual.key";
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat("en-US");
  const fmt = (v) => (v === undefined || v === null ? "–" : nf.format(v));
  const pct = (v) => (v === undefined || v === null ? "–" : (100 * v).toFixed(2) + "%");
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  const COLORS = ["#2f6fde", "#e07a2f", "#2fa36b", "#8a4fd6", "#c83a3a", "#1fa3b3", "#b3a21f"];

  // --- key handling: #key=… (taken once, then dropped from the URL) ---
  const hash = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (hash.get("key")) {
    sessionStorage.setItem(KEY, hash.get("key"));
    hash.delete("key");
    const rest = hash.toString();
    history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
  }
  const key = () => sessionStorage.getItem(KEY) || "";

  class HTTPError extends Error {
    constructor(status, body) {
      const e = body && body.error;
      super((e && e.message) || (typeof e === "string" && e) || "HTTP " + status);
      this.status = status;
    }
  }

  async function call(path, asText) {
    const r = await fetch(path, { headers: { Authorization: "Bearer " + key() }, cache: "no-store" });
    if (r.status === 401) { logout("the key was refused"); throw new HTTPError(401); }
    if (!r.ok) {
      let body = null;
      try { body = await r.json(); } catch (e) { /* not JSON */ }
      throw new HTTPError(r.status, body);
    }
    return asText ? r.text() : r.json();
  }

  function setNum(id, v, text) {
    const el = $(id);
    if (!el) return;
    el.dataset.value = v === undefined || v === null ? "" : String(v);
    el.textContent = text !== undefined ? text : fmt(v);
  }

  function logout(msg) {
    sessionStorage.removeItem(KEY);
    $("app").hidden = true;
    $("logout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = msg || "";
  }

  // --- SVG charts ---
  const W = 560, H = 180, PAD = { l: 54, r: 10, t: 10, b: 26 };
  const svg = (inner, h) => `<svg viewBox="0 0 ${W} ${h || H}" xmlns="http://www.w3.org/2000/svg" role="img">${inner}</svg>`;
  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }
  const short = (v) => {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "G";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e3) return (v / 1e3).toFixed(1) + "k";
    return String(Math.round(v * 100) / 100);
  };
  function axes(min, max, labels, every) {
    let s = "";
    const ih = H - PAD.t - PAD.b;
    for (let i = 0; i <= 4; i++) {
      const v = min + ((max - min) * i) / 4, y = PAD.t + ih - (ih * i) / 4;
      s += `<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#e2e6ee"/>`;
      s += `<text x="${PAD.l - 4}" y="${y + 3}" text-anchor="end">${short(v)}</text>`;
    }
    const n = labels.length, iw = W - PAD.l - PAD.r;
    labels.forEach((l, i) => {
      if (i % every) return;
      const x = PAD.l + (n === 1 ? iw / 2 : ((i + 0.5) * iw) / n);
      s += `<text x="${x}" y="${H - 8}" text-anchor="middle">${esc(l)}</text>`;
    });
    return s;
  }
  // bars: one series of values (may be negative) with labels.
  function barChart(labels, values, color) {
    if (!values.length) return '<p class="muted small">no data</p>';
    // The axis reaches below 0 only for negative values (niceMax(0) is 1).
    const top = Math.max(0, ...values), bottom = Math.min(0, ...values);
    const lo = bottom < 0 ? -niceMax(-bottom) : 0, max = top > 0 ? niceMax(top) : lo < 0 ? 0 : 1;
    const ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r, n = values.length;
    const y = (v) => PAD.t + ih - ((v - lo) * ih) / (max - lo);
    let s = axes(lo, max, labels, Math.ceil(n / 10));
    const bw = Math.max(1, (iw / n) * 0.8);
    values.forEach((v, i) => {
      const x = PAD.l + (i * iw) / n + (iw / n - bw) / 2;
      const y0 = y(0), y1 = y(v);
      s += `<rect x="${x.toFixed(1)}" y="${Math.min(y0, y1).toFixed(1)}" width="${bw.toFixed(1)}" height="${Math.abs(y1 - y0).toFixed(1)}" fill="${v < 0 ? "#c83a3a" : color || COLORS[0]}"><title>${esc(labels[i])}: ${fmt(v)}</title></rect>`;
    });
    return svg(s);
  }
  // lines: several series over the same x labels.
  function lineChart(labels, series, opts) {
    opts = opts || {};
    const all = series.flatMap((s) => s.values).filter((v) => v !== null && isFinite(v));
    if (!all.length) return '<p class="muted small">no data yet</p>';
    const max = niceMax(Math.max(...all)), lo = Math.min(0, ...all);
    const ih = H - PAD.t - PAD.b, iw = W - PAD.l - PAD.r, n = labels.length;
    const x = (i) => PAD.l + (n === 1 ? iw / 2 : ((i + 0.5) * iw) / n);
    const y = (v) => PAD.t + ih - ((v - lo) * ih) / (max - lo || 1);
    let s = axes(lo, max, labels, Math.ceil(n / (opts.ticks || 10)));
    series.forEach((ser, k) => {
      const pts = ser.values.map((v, i) => (v === null ? null : [x(i).toFixed(1), y(v).toFixed(1)])).filter(Boolean);
      const color = ser.color || COLORS[k];
      s += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => p.join(",")).join(" ")}"/>`;
      // A line through one point has no length: the first month of a new
      // install would show nothing. Few points get a dot each.
      if (pts.length <= 3) for (const [px, py] of pts) s += `<circle cx="${px}" cy="${py}" r="3.5" fill="${color}"/>`;
    });
    const legend = series.map((ser, k) => `<span><i class="sw" style="background:${ser.color || COLORS[k]}"></i>${esc(ser.name)}</span>`).join("");
    return svg(s) + `<div class="legend small">${legend}</div>`;
  }
  function hbarChart(labels, values) {
    const n = labels.length, rh = 22, h = n * rh + 10, max = Math.max(1, ...values);
    let s = "";
    labels.forEach((l, i) => {
      const w = ((W - 220) * values[i]) / max, y = 5 + i * rh;
      s += `<text x="0" y="${y + 14}" style="font-size:12px">${esc(l)}</text>`;
      s += `<rect x="110" y="${y + 3}" width="${Math.max(1, w).toFixed(1)}" height="${rh - 8}" fill="${COLORS[i % COLORS.length]}"/>`;
      s += `<text x="${116 + w}" y="${y + 14}" style="font-size:12px">${fmt(values[i])}</text>`;
    });
    return svg(s, h);
  }
  function table(head, rows) {
    return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>` +
      rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("") + "</tbody></table>";
  }

  // --- cluster ---
  async function loadCluster() {
    try {
      const s = await call("/v1/cluster");
      let html;
      if (s.Servers || s.ID) {
        const rows = (s.Servers || []).map((v) => [
          esc(v.ID) + (v.ID === s.LeaderID ? " ★" : ""), esc(v.HTTPAddr || "–"), v.Voter ? "voter" : "non-voter",
          v.ID === s.ID ? `<span id="cluster-applied-${esc(v.ID)}">${fmt(s.AppliedIndex)}</span>` : '<span class="muted">ask that node</span>',
        ]);
        html = `<table class="kv"><tbody>
          <tr><td>this node</td><td id="cluster-node">${esc(s.ID)} (${esc(s.State)})</td></tr>
          <tr><td>leader</td><td id="cluster-leader">${esc(s.LeaderID || "none")}</td></tr>
          <tr><td>term</td><td id="cluster-term">${fmt(s.Term)}</td></tr>
          <tr><td>commit / applied index</td><td id="cluster-applied" data-value="${s.AppliedIndex}">${fmt(s.CommitIndex)} / ${fmt(s.AppliedIndex)}</td></tr>
          <tr><td>queued commands</td><td>${fmt(s.Queued)}</td></tr></tbody></table>` +
          (rows.length ? "<h3>Nodes</h3>" + table(["node", "HTTP", "role", "applied index"], rows) : "");
      } else {
        html = '<table class="kv"><tbody>' + Object.keys(s).map((k) =>
          `<tr><td>${esc(k)}</td><td id="cluster-${esc(k)}">${esc(typeof s[k] === "number" ? fmt(s[k]) : JSON.stringify(s[k]))}</td></tr>`).join("") + "</tbody></table>";
      }
      $("cluster-body").innerHTML = html;
    } catch (e) {
      $("cluster-body").innerHTML = `<span class="error">${esc(e.message)}</span>`;
    }
  }

  // --- live throughput from /metrics (Prometheus text), /v1/stats as fallback ---
  const live = { prev: null, labels: [], cps: [], rps: [], lat: [], p99: [] };
  function parseMetrics(text) {
    const m = { commands: 0, requests: 0, latSum: 0, latCount: 0, buckets: new Map() };
    for (const line of text.split("\n")) {
      if (!line || line[0] === "#") continue;
      const sp = line.lastIndexOf(" ");
      const name = line.slice(0, sp), v = parseFloat(line.slice(sp + 1));
      if (name.startsWith("accrual_commands_total")) m.commands += v;
      else if (name.startsWith("accrual_http_requests_total")) m.requests += v;
      else if (name.startsWith("accrual_http_request_duration_seconds_sum")) m.latSum += v;
      else if (name.startsWith("accrual_http_request_duration_seconds_count")) m.latCount += v;
      else if (name.startsWith("accrual_http_request_duration_seconds_bucket")) {
        const le = /le="([^"]+)"/.exec(name);
        if (le) m.buckets.set(le[1], (m.buckets.get(le[1]) || 0) + v);
      }
    }
    return m;
  }
  function p99(prev, cur) {
    const bs = [...cur.buckets.keys()].filter((k) => k !== "+Inf").map(Number).sort((a, b) => a - b);
    const total = cur.latCount - prev.latCount;
    if (total <= 0) return null;
    for (const b of bs) {
      const k = String(b), d = (cur.buckets.get(k) || 0) - (prev.buckets.get(k) || 0);
      if (d >= 0.99 * total) return b * 1000;
    }
    return bs.length ? bs[bs.length - 1] * 1000 : null;
  }
  async function pollLive() {
    let cur;
    try {
      cur = parseMetrics(await call("/metrics", true));
    } catch (e) {
      try {
        const s = await call("/v1/stats");
        cur = { commands: s.commands || 0, requests: 0, latSum: 0, latCount: 0, buckets: new Map() };
      } catch (e2) { return; }
    }
    cur.t = performance.now();
    const prev = live.prev;
    live.prev = cur;
    if (!prev) return;
    const dt = (cur.t - prev.t) / 1000 || 2;
    const cps = (cur.commands - prev.commands) / dt, rps = (cur.requests - prev.requests) / dt;
    const dc = cur.latCount - prev.latCount;
    const lat = dc > 0 ? ((cur.latSum - prev.latSum) / dc) * 1000 : null;
    const q = p99(prev, cur);
    const push = (a, v) => { a.push(v); if (a.length > 60) a.shift(); };
    push(live.labels, new Date().toISOString().slice(11, 19));
    push(live.cps, cps); push(live.rps, rps); push(live.lat, lat); push(live.p99, q);
    setNum("live-cps", Math.round(cps)); setNum("live-rps", Math.round(rps));
    setNum("live-lat", lat, lat === null ? "–" : lat.toFixed(2) + " ms");
    setNum("live-p99", q, q === null ? "–" : "≤ " + q.toFixed(2) + " ms");
    $("live-chart").innerHTML = lineChart(live.labels, [{ name: "commands/s", values: live.cps }, { name: "requests/s", values: live.rps }], { ticks: 6 });
    $("lat-chart").innerHTML = lineChart(live.labels, [{ name: "mean latency (ms)", values: live.lat, color: COLORS[2] }, { name: "p99 bucket (ms)", values: live.p99, color: COLORS[4] }], { ticks: 6 });
  }

  // --- KPIs ---
  async function loadKPIs() {
    let k;
    try {
      k = await call("/v1/stats/kpis");
    } catch (e) {
      $("kpi-note").innerHTML = `<span class="error">KPIs: ${esc(e.message)}</span>`;
      return;
    }
    $("program-name").textContent = k.program ? "program " + k.program : "";
    $("kpi-clock").textContent = "as of " + k.clock;
    $("kpi-note").textContent = k.complete ? "" : "Activity figures cover the stream since " + (k.observed_from || "the node started") + ".";
    setNum("kpi-members", k.members);
    setNum("kpi-buyers", k.buyers);
    for (const a of k.active || []) setNum("kpi-active-" + a.days, a.members, fmt(a.members) + " · " + pct(a.share));
    setNum("kpi-churn", k.churn.rate, pct(k.churn.rate));
    setNum("kpi-earned", k.points.earned);
    setNum("kpi-redeemed", k.points.redeemed);
    setNum("kpi-redemption-rate", k.points.redemption_rate, pct(k.points.redemption_rate));
    setNum("kpi-breakage-rate", k.points.breakage_rate, pct(k.points.breakage_rate));
    setNum("kpi-liability", k.liability.points);
    const cur = k.currency || "";
    setNum("kpi-liability-money", k.liability.money_minor, (k.liability.money_minor / 100).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " " + cur);

    const lb = k.liability.by_expiry || [];
    $("chart-liability").innerHTML = barChart(lb.map((b) => b.month), lb.map((b) => b.points));
    const mon = (k.monthly || []).slice(-36);
    $("chart-monthly").innerHTML = lineChart(mon.map((m) => m.month), [
      { name: "earned", values: mon.map((m) => m.earned - m.clawed_back) },
      { name: "redeemed", values: mon.map((m) => m.redeemed - m.returned) },
      { name: "breakage", values: mon.map((m) => m.breakage), color: COLORS[4] },
      { name: "active buyers", values: mon.map((m) => m.active_buyers), color: COLORS[2] },
    ], { ticks: 8 });
    $("chart-tiers").innerHTML = hbarChart((k.tiers || []).map((t) => t.tier), (k.tiers || []).map((t) => t.members));
    $("tier-moves").innerHTML = `upgrades <b id="kpi-upgrades">${fmt(k.tier_upgrades)}</b>, downgrades <b>${fmt(k.tier_downgrades)}</b>` +
      ((k.tier_moves || []).length ? " · " + k.tier_moves.map((m) => `${esc(m.from)}→${esc(m.to)} ${fmt(m.count)}`).join(", ") : "");
    const s = k.spend || {};
    $("spend").innerHTML = `<table class="kv"><tbody>
      <tr><td>buyers</td><td>${fmt(s.buyers)}</td></tr>
      <tr><td>total spend (minor)</td><td>${fmt(s.total_minor)}</td></tr>
      <tr><td>mean per buyer</td><td id="kpi-spend-mean">${fmt(Math.round(s.mean_minor || 0))}</td></tr>
      <tr><td>median / p90 / p99</td><td>${fmt(s.median_minor)} / ${fmt(s.p90_minor)} / ${fmt(s.p99_minor)}</td></tr>
      <tr><td>largest</td><td>${fmt(s.max_minor)}</td></tr>
      <tr><td>purchases per buyer</td><td>${(s.mean_purchases || 0).toFixed(2)}</td></tr></tbody></table>`;

    const co = (k.retention || []).slice(-18);
    const width = Math.min(13, Math.max(0, ...co.map((c) => c.retention.length)));
    const head = ["cohort", "size"].concat([...Array(width).keys()].map((i) => "+" + i));
    $("retention").innerHTML = co.length ? table(head, co.map((c) => [esc(c.month), fmt(c.size)].concat([...Array(width).keys()].map((i) => {
      const r = c.retention[i];
      if (r === undefined) return "";
      return `<span style="display:inline-block;min-width:42px;padding:0 3px;background:rgba(47,111,222,${(0.08 + 0.8 * r).toFixed(2)});color:${r > 0.5 ? "#fff" : "#1d2330"}">${(100 * r).toFixed(0)}%</span>`;
    })))) : '<p class="muted small">no purchases yet</p>';

    const ps = (k.partners || []).slice().sort((a, b) => b.issued - a.issued).slice(0, 15);
    $("partners").innerHTML = table(["partner", "issued", "clawed back", "redeemed", "returned", "net settlement", "spend (minor)"],
      ps.map((p) => [`<a href="#" data-partner="${esc(p.partner)}">${esc(p.partner)}</a>`, fmt(p.issued), fmt(p.clawed_back), fmt(p.redeemed), fmt(p.returned), fmt(p.net), fmt(p.spend_minor)]));
    showRetail(k.budgets || [], k.catalogue || []);
  }

  // showRetail lists the campaign budgets and the reward catalogue (SPEC
  // §10), or hides them when the program has neither. Cells carry their
  // figure in data-value, by position (campaign ids need not fit an id).
  function showRetail(budgets, catalogue) {
    const num = (id, v) => `<span id="${id}" data-value="${v}">${fmt(v)}</span>`;
    const meter = (spent, budget) => {
      const share = Math.min(1, spent / budget);
      return `<span class="meter" title="${(100 * share).toFixed(1)}% spent"><span style="width:${(100 * share).toFixed(1)}%"></span></span>`;
    };
    $("retail").hidden = !budgets.length && !catalogue.length;
    $("budgets").innerHTML = budgets.length ? table(["campaign", "budget", "spent", "left", ""], budgets.map((b, i) =>
      [esc(b.campaign), fmt(b.budget_points), num("budget-" + i + "-spent", b.spent), num("budget-" + i + "-left", b.left), meter(b.spent, b.budget_points)]))
      : '<p class="muted small">no campaign has a budget</p>';
    $("catalogue").innerHTML = catalogue.length ? table(["reward", "partner", "points", "stock", "claimed", "left"], catalogue.map((r, i) =>
      [esc(r.reward), esc(r.partner), fmt(r.points), r.stock ? fmt(r.stock) : "unlimited", num("reward-" + i + "-claimed", r.claimed),
        r.left === undefined ? "–" : num("reward-" + i + "-left", r.left)]))
      : '<p class="muted small">no rewards</p>';
  }

  // signedPoints shows whether an entry's points came to the member (+) or
  // went (−): points move from the credit account to the debit account. A
  // move between the member's own accounts (pending → available) names them.
  function signedPoints(e, member) {
    const own = (acct) => typeof acct === "string" && acct.startsWith("member:" + member + ":");
    const sub = (acct) => acct.slice(("member:" + member + ":").length);
    if (own(e.debit) && own(e.credit)) return `<span class="pts move">${fmt(e.points)} ${esc(sub(e.credit))}→${esc(sub(e.debit))}</span>`;
    if (own(e.debit)) return `<span class="pts in">+${fmt(e.points)}</span>`;
    if (own(e.credit)) return `<span class="pts out">−${fmt(e.points)}</span>`;
    return fmt(e.points);
  }

  // --- member lookup ---
  async function lookupMember(id) {
    const body = $("member-body");
    body.innerHTML = '<p class="muted">loading…</p>';
    try {
      const m = await call("/v1/members/" + encodeURIComponent(id));
      let st = null;
      try { st = await call("/v1/members/" + encodeURIComponent(id) + "/statement?limit=20"); } catch (e) { /* optional */ }
      const lots = (m.lots || []).map((l) => [esc(l.expires), fmt(l.available), fmt(l.pending)]);
      let html = `<table class="kv"><tbody>
        <tr><td>member</td><td id="member-id">${esc(m.member)}</td></tr>
        <tr><td>available</td><td id="member-available" data-value="${m.available}">${fmt(m.available)}</td></tr>
        <tr><td>pending</td><td id="member-pending" data-value="${m.pending}">${fmt(m.pending)}</td></tr>
        <tr><td>held</td><td>${fmt(m.held)}</td></tr>
        <tr><td>tier</td><td id="member-tier">${esc(m.tier)}${m.discount_bp ? " (" + (m.discount_bp / 100) + "% discount)" : ""}</td></tr>
        <tr><td>earned / redeemed / expired</td><td>${fmt(m.earned)} / ${fmt(m.redeemed)} / ${fmt(m.expired)}</td></tr>
        </tbody></table>`;
      if (lots.length) html += "<h3>Points by expiry month</h3>" + table(["expires", "available", "pending"], lots);
      const es = st && (st.entries || []);
      if (es && es.length) {
        html += "<h3>Statement (latest)</h3>" + '<div class="scroll">' + table(["at", "points", "kind", "command", "debit", "credit"], es.map((e) => [
          esc(e.at || (e.at_ms ? new Date(e.at_ms).toISOString() : "")), signedPoints(e, m.member), esc(e.kind),
          esc(e.command_id || e.command || ""), esc(e.debit), esc(e.credit)])) + "</div>";
      }
      body.innerHTML = html;
    } catch (e) {
      body.innerHTML = `<p class="error" id="member-error">${esc(e.status === 404 ? "no such member" : e.message)}</p>`;
    }
  }

  // --- partner settlement ---
  async function settlement(id, from, to) {
    const body = $("partner-body");
    body.innerHTML = '<p class="muted">loading…</p>';
    const q = new URLSearchParams();
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    try {
      const r = await call("/v1/partners/" + encodeURIComponent(id) + "/settlement" + (q.toString() ? "?" + q : ""));
      const p = typeof r.partner === "object" ? r.partner : r;
      const from_ = r.from || (r.from_ms !== undefined ? new Date(r.from_ms).toISOString() : "");
      const to_ = r.to || (r.to_ms !== undefined ? new Date(r.to_ms).toISOString() : "");
      let html = `<table class="kv"><tbody>
        <tr><td>partner</td><td id="settlement-partner">${esc(p.partner || id)}</td></tr>
        <tr><td>period</td><td>${esc(from_)} – ${esc(to_)}</td></tr>
        <tr><td>issued</td><td id="settlement-issued" data-value="${p.issued}">${fmt(p.issued)}</td></tr>` +
        (p.clawed_back !== undefined ? `<tr><td>clawed back</td><td>${fmt(p.clawed_back)}</td></tr>` : "") +
        `<tr><td>redeemed</td><td id="settlement-redeemed" data-value="${p.redeemed}">${fmt(p.redeemed)}</td></tr>` +
        (p.returned !== undefined ? `<tr><td>returned</td><td>${fmt(p.returned)}</td></tr>` : "") +
        (p.net !== undefined ? `<tr><td>net settlement</td><td id="settlement-net">${fmt(p.net)}</td></tr>` : "") +
        "</tbody></table>";
      if (p.days && p.days.length) {
        html += "<h3>By day</h3>" + barChart(p.days.map((d) => d.day.slice(5)), p.days.map((d) => (d.net !== undefined ? d.net : (d.issued || 0) - (d.redeemed || 0))), COLORS[2]);
      }
      body.innerHTML = html;
    } catch (e) {
      body.innerHTML = `<p class="error">${esc(e.status === 404 ? "no such partner" : e.message)}</p>`;
    }
  }

  // --- start ---
  function open() {
    $("login").hidden = true;
    $("app").hidden = false;
    $("logout").hidden = false;
    loadCluster();
    loadKPIs();
    pollLive();
    setInterval(pollLive, 2000);
    setInterval(loadCluster, 5000);
    setInterval(loadKPIs, 30000);
    const m = hash.get("member"), p = hash.get("partner");
    if (m) { $("member-input").value = m; lookupMember(m); }
    if (p) { $("partner-input").value = p; settlement(p, hash.get("from") || "", hash.get("to") || ""); }
  }
  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(KEY, $("key-input").value.trim());
    try { await call("/v1/program", true); open(); } catch (e) { if (e.status !== 401) $("login-error").textContent = e.message; }
  });
  $("logout").addEventListener("click", () => logout(""));
  $("kpi-refresh").addEventListener("click", loadKPIs);
  $("member-form").addEventListener("submit", (ev) => { ev.preventDefault(); const v = $("member-input").value.trim(); if (v) lookupMember(v); });
  $("partner-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("partner-input").value.trim();
    if (v) settlement(v, $("partner-from").value.trim(), $("partner-to").value.trim());
  });
  $("partners").addEventListener("click", (ev) => {
    const a = ev.target.closest("a[data-partner]");
    if (!a) return;
    ev.preventDefault();
    $("partner-input").value = a.dataset.partner;
    settlement(a.dataset.partner, "", "");
  });
  if (key()) open(); else logout("");
})();
