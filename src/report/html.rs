//! `index.html`: a self-contained page (inline CSS and script, images as files beside
//! it, a Content Security Policy that forbids outside requests). Every string that
//! comes from a suite, a provider or a file is escaped.
//!
//! The page is written for a reader who opens it cold: the first screen says in words
//! whether anything changed and how many cases; each case says why before it shows any
//! number. The script is allowed by its hash, not by `'unsafe-inline'`, so markup that
//! slipped through escaping still could not run.

use std::fmt::Write;

use sha2::{Digest, Sha256};

use super::history::HistoryRecord;
use super::model::{CaseReport, CaseVerdict, RunReport, RunVerdict, SampleReport, SuiteReport};
use super::text::metric_table;
use super::thumbs::thumb_path;
use crate::score::{LabShift, PaletteColor, ciede2000};

/// Escapes text for HTML element content and quoted attributes.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative image path made safe for a `src` attribute: only our own relative paths pass.
fn src(path: &str) -> String {
    // No scheme (`https:`, `javascript:`, `data:`), nothing absolute, nothing outside.
    if path.contains(':')
        || path.starts_with('/')
        || path.starts_with('\\')
        || path.split(['/', '\\']).any(|seg| seg == "..")
        || path.trim().is_empty()
    {
        return String::new();
    }
    path.split('/')
        .map(|seg| {
            esc(seg)
                .replace('%', "%25")
                .replace('#', "%23")
                .replace('?', "%3F")
                .replace(' ', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Standard base64, for the script's CSP hash.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The Content Security Policy of the page.
///
/// `img-src 'self' file:`: whether `'self'` matches `file:` URLs for a page opened from
/// disk differs between browsers and versions (Chromium 156 allows it; browsers that
/// give each file its own opaque origin do not), so `file:` is named too; a page served
/// over HTTP(S), such as a CI artifact viewer, is covered by `'self'`. `file:` only
/// reaches the local disk, never the network. Nothing else may be fetched, framed,
/// posted or connected to, and only the page's own script (by hash) runs.
fn csp() -> String {
    let hash = base64(&Sha256::digest(SCRIPT.as_bytes()));
    format!(
        "default-src 'none'; img-src 'self' file:; style-src 'unsafe-inline'; \
         script-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'"
    )
}

const STYLE: &str = r#"
:root{--pass:#1a7f37;--drift:#cf222e;--error:#9a6700;--inconclusive:#6e7781;--bg:#f6f8fa;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
code{background:#eff2f5;padding:1px 4px;border-radius:4px;font-size:12px;word-break:break-all}
.top{background:#fff;border-bottom:1px solid var(--line);padding:18px 24px}
.banner{border-radius:10px;padding:14px 18px;color:#fff;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
.banner.drift{background:var(--drift)}.banner.pass{background:var(--pass)}.banner.incomplete{background:var(--error)}
.banner .big{font-size:26px;font-weight:700;white-space:nowrap}.banner .say{font-size:15px;max-width:780px}
.banner code{background:rgba(255,255,255,.2);color:#fff}
.facts{display:flex;gap:18px;flex-wrap:wrap;color:var(--muted);margin:10px 0 0;font-size:13px}.facts b{color:var(--fg)}
.suites{display:grid;grid-template-columns:repeat(auto-fill,minmax(360px,1fr));gap:10px;margin-top:12px}
.suitecard{border:1px solid var(--line);border-radius:8px;padding:10px 12px}.suitecard h3{margin:0 0 4px;font-size:14px}
.fptab{border-collapse:collapse;margin-top:6px;font-size:12px;width:100%}.fptab td,.fptab th{padding:2px 6px;border-bottom:1px solid #eef1f4;text-align:left}
.fptab tr.changed td{background:#fff1c2;font-weight:600}.ok-note{color:var(--pass);font-size:12px}.warn-note{color:#9a6700;font-weight:600;font-size:13px}
.badge{display:inline-block;border-radius:12px;padding:1px 9px;color:#fff;font-weight:700;font-size:11px;text-transform:uppercase;letter-spacing:.03em;vertical-align:middle}
.badge.pass{background:var(--pass)}.badge.drift{background:var(--drift)}.badge.error{background:var(--error)}.badge.inconclusive{background:var(--inconclusive)}
.toolbar{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:8px 24px;display:flex;gap:8px;flex-wrap:wrap;align-items:center}
.toolbar button,.cmp button{border:1px solid var(--line);background:#fff;border-radius:6px;padding:4px 10px;cursor:pointer;font:inherit}
.toolbar button[aria-pressed=true],.cmp button[aria-pressed=true]{background:#0969da;color:#fff;border-color:#0969da}
.toolbar select{max-width:220px}.toolbar select,.toolbar input{padding:4px 8px;border:1px solid var(--line);border-radius:6px;font:inherit}.toolbar input{min-width:270px}
.toolbar .hint{color:var(--muted);font-size:12px;margin-left:auto}
main{padding:4px 24px 48px}.empty{color:var(--muted);padding:24px}
.case{background:#fff;border:1px solid var(--line);border-left:6px solid var(--inconclusive);border-radius:8px;margin:14px 0;padding:12px 16px}
.case.v-drift{border-left-color:var(--drift)}.case.v-pass{border-left-color:var(--pass)}.case.v-error{border-left-color:var(--error)}
.case:focus{outline:3px solid #0969da;outline-offset:2px}.case.hidden{display:none}
.case h2{font-size:17px;margin:0;display:inline}.case .suite{color:var(--muted);margin-left:6px}
.tag{display:inline-block;background:#ddf4ff;color:#0a3069;border-radius:10px;padding:0 8px;font-size:12px;margin-left:4px}
.headline{margin:6px 0 0;font-size:15px;font-weight:600}.v-drift .headline{color:var(--drift)}.why{margin:2px 0 0;color:var(--muted);padding-left:20px;font-size:14px}.why li{margin:1px 0}.fine{color:var(--pass);margin:6px 0 0}
.colour{margin:4px 0 0;color:var(--fg)}.colour b{font-weight:600}
.fpcase{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:4px 10px;margin-top:6px;font-size:13px}
details.body>summary{cursor:pointer;color:#0969da;margin-top:8px}
.grid{display:grid;grid-template-columns:minmax(0,1fr) minmax(300px,420px);gap:18px;margin-top:10px}
@media (max-width:1000px){.grid{grid-template-columns:1fr}}
.sample{display:grid;grid-template-columns:18px repeat(3,minmax(0,170px));gap:6px;margin-bottom:6px;align-items:start}.sample .n{color:var(--muted);font-weight:700;padding-top:4px}
figure{margin:0}figure img{width:100%;border:1px solid var(--line);border-radius:4px;display:block;background:#eee;aspect-ratio:auto}
figcaption{font-size:12px;color:var(--muted)}figure.missing img{display:none}figure.missing figcaption:before{content:"image missing \2014 "}
.cmp{margin-top:6px}.cmp-bar{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-bottom:6px;font-size:13px}
.stage{position:relative;display:block;width:min(512px,100%);line-height:0;user-select:none;cursor:ew-resize}
.stage img{display:block;width:100%;height:auto}.stage img.b{position:absolute;inset:0;width:100%;height:100%;clip-path:inset(0 calc(100% - var(--x,50%)) 0 0)}
.stage .line{position:absolute;top:0;bottom:0;left:var(--x,50%);width:2px;background:#fff;box-shadow:0 0 3px #000}
.stage .lbl{position:absolute;top:6px;background:rgba(0,0,0,.6);color:#fff;font-size:12px;line-height:1.4;padding:1px 6px;border-radius:4px}
.stage .lbl.l{left:6px}.stage .lbl.r{right:6px}.stage .lbl.now{display:none;left:6px}
.cmp[data-mode=blink] .stage{cursor:pointer}.cmp[data-mode=blink] img.b{clip-path:none}.cmp[data-mode=blink].show-c img.b{visibility:hidden}
.cmp[data-mode=blink] .line,.cmp[data-mode=blink] .lbl.l,.cmp[data-mode=blink] .lbl.r,.cmp[data-mode=blink] .slider{display:none}
.cmp[data-mode=blink] .lbl.now{display:block}.slider{width:100%;max-width:512px;display:block}
table.m{border-collapse:collapse;width:100%;font-size:13px}table.m td,table.m th{border-bottom:1px solid #eef1f4;padding:3px 6px;text-align:left;vertical-align:top}
table.m td.num{font-variant-numeric:tabular-nums;white-space:nowrap}table.m tr.bad td{background:#ffebe9}table.m tr.bad td.num:first-of-type{color:var(--drift);font-weight:700}
details.more{margin-top:4px;font-size:13px}details.more summary{cursor:pointer;color:#0969da}table.m .mean{display:block;color:var(--muted);font-size:11px}
h4{margin:12px 0 4px;font-size:13px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.pal{display:flex;gap:6px;flex-wrap:wrap}.sw{width:50px;text-align:center;font-size:11px}.sw i{display:block;height:22px;border:1px solid rgba(0,0,0,.15)}
.sw i:first-child{border-radius:4px 4px 0 0}.sw i:nth-child(2){border-radius:0 0 4px 4px}.sw.far span{color:var(--drift);font-weight:700}
.trend{display:flex;gap:14px;flex-wrap:wrap;font-size:12px;color:var(--muted)}.trend svg{display:block}
dl.kv{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:0;font-size:13px}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0;word-break:break-word}
"#;

const SCRIPT: &str = r#"
(function(){
  var state={verdict:'all',suite:'',tag:'',q:''};
  var cases=[].slice.call(document.querySelectorAll('.case'));
  var shown=document.getElementById('shown');
  function apply(){var n=0;cases.forEach(function(c){
    var ok=(state.verdict==='all'||c.dataset.verdict===state.verdict)
      &&(!state.suite||c.dataset.suite===state.suite)
      &&(!state.tag||(' '+c.dataset.tags+' ').indexOf(' '+state.tag+' ')>=0)
      &&(!state.q||c.dataset.search.indexOf(state.q)>=0);
    c.classList.toggle('hidden',!ok); if(ok){n++;}});
    if(shown){shown.textContent=n+' of '+cases.length+' cases shown';}
    var e=document.getElementById('none'); if(e){e.hidden=n>0;}}
  document.querySelectorAll('.toolbar button[data-verdict]').forEach(function(b){b.addEventListener('click',function(){
    state.verdict=b.dataset.verdict;
    document.querySelectorAll('.toolbar button[data-verdict]').forEach(function(x){x.setAttribute('aria-pressed',x===b?'true':'false');});
    apply();});});
  var su=document.getElementById('suite'); if(su){su.addEventListener('change',function(){state.suite=su.value;apply();});}
  var tg=document.getElementById('tag'); if(tg){tg.addEventListener('change',function(){state.tag=tg.value;apply();});}
  var s=document.getElementById('search'); if(s){s.addEventListener('input',function(){state.q=s.value.toLowerCase().trim();apply();});}
  document.querySelectorAll('.cmp').forEach(function(w){
    var stage=w.querySelector('.stage'),r=w.querySelector('.slider'),b=w.querySelector('img.b'),c=w.querySelector('img.c'),now=w.querySelector('.lbl.now'),timer=null;
    function setX(v){stage.style.setProperty('--x',v+'%'); r.value=v;}
    function show(cand){w.classList.toggle('show-c',cand); now.textContent=cand?'candidate (now)':'baseline (approved)';}
    function mode(m){w.dataset.mode=m; w.querySelectorAll('button[data-mode]').forEach(function(x){x.setAttribute('aria-pressed',x.dataset.mode===m?'true':'false');});
      if(timer){clearInterval(timer);timer=null;} show(false);
      if(m==='blink'){timer=setInterval(function(){show(!w.classList.contains('show-c'));},800);}}
    r.addEventListener('input',function(){setX(r.value);});
    stage.addEventListener('pointermove',function(e){if(w.dataset.mode!=='swipe'||!(e.buttons&1))return;var rc=stage.getBoundingClientRect();setX(Math.round(Math.max(0,Math.min(100,(e.clientX-rc.left)/rc.width*100))));});
    stage.addEventListener('click',function(e){if(w.dataset.mode==='blink'){if(timer){clearInterval(timer);timer=null;} show(!w.classList.contains('show-c'));}
      else{var rc=stage.getBoundingClientRect();setX(Math.round(Math.max(0,Math.min(100,(e.clientX-rc.left)/rc.width*100))));}});
    w.querySelectorAll('button[data-mode]').forEach(function(x){x.addEventListener('click',function(){mode(x.dataset.mode);});});
    w.querySelectorAll('button[data-b]').forEach(function(x){x.addEventListener('click',function(){b.src=x.dataset.b;c.src=x.dataset.c;
      w.querySelectorAll('button[data-b]').forEach(function(y){y.setAttribute('aria-pressed',y===x?'true':'false');});});});
  });
  document.addEventListener('error',function(e){var t=e.target;if(t&&t.tagName==='IMG'&&t.parentNode){var f=t.closest('figure');if(f){f.classList.add('missing');}}},true);
  document.addEventListener('keydown',function(e){
    var tag=(e.target&&e.target.tagName)||'';
    if(tag==='INPUT'||tag==='SELECT'||tag==='TEXTAREA'){if(e.key==='Escape'){e.target.blur();}return;}
    if(e.key==='/'&&s){e.preventDefault();s.focus();return;}
    var vis=cases.filter(function(c){return !c.classList.contains('hidden');}); if(!vis.length)return;
    var cur=document.activeElement&&document.activeElement.closest?document.activeElement.closest('.case'):null;
    var i=vis.indexOf(cur), next=null;
    if(e.key==='j'||e.key==='n'){next=vis[i+1]||vis[0];} else if(e.key==='k'||e.key==='p'){next=i<0?vis[vis.length-1]:(vis[i-1]||vis[vis.length-1]);}
    else if(e.key==='o'&&cur){var d=cur.querySelector('details.body');if(d){d.open=!d.open;}}
    if(next){e.preventDefault();next.focus();next.scrollIntoView({block:'start'});}
  });
  apply();
})();
"#;

fn verdict_class(v: RunVerdict) -> &'static str {
    match v {
        RunVerdict::Pass => "pass",
        RunVerdict::Drift => "drift",
        RunVerdict::Incomplete => "incomplete",
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The first screen: the verdict in words, then the facts.
fn banner(out: &mut String, r: &RunReport) {
    let total = r.cases.len();
    let drift = r.count(CaseVerdict::Drift);
    let unjudged = r.count(CaseVerdict::Error) + r.count(CaseVerdict::Inconclusive);
    let (big, say) = match r.verdict {
        RunVerdict::Drift => (
            "✖ Drift found",
            format!(
                "{drift} of {total} {} no longer {} like the approved baseline. Review them \
                 below{}",
                if total == 1 { "case" } else { "cases" },
                if drift == 1 { "looks" } else { "look" },
                // `compare` runs record no request fingerprint and cannot be accepted.
                if r.cases.iter().any(|c| !c.fingerprint.is_empty()) {
                    "; if the new look is wanted, approve it with <code>driftgate accept</code>."
                } else {
                    "."
                }
            ),
        ),
        RunVerdict::Incomplete => (
            "⚠ Incomplete",
            format!(
                "{} could not be judged (provider or file errors); none of the others drifted. \
                 Re-run before trusting this result.",
                plural(unjudged, "case", "cases")
            ),
        ),
        RunVerdict::Pass => (
            "✔ No drift",
            format!("All {total} cases still look like their approved baselines."),
        ),
    };
    let mut say = say;
    if drift > 0 && unjudged > 0 {
        let _ = write!(
            say,
            " {} could not be judged.",
            plural(unjudged, "other case", "other cases")
        );
    }
    if r.suites.iter().any(|s| !s.fingerprint_changes.is_empty()) {
        say.push_str(
            " The provider now reports a different build than when the baselines were made.",
        );
    }
    let _ = write!(
        out,
        r#"<header class="top"><div class="banner {}"><div class="big">{big}</div><div class="say">{say}</div></div>"#,
        verdict_class(r.verdict)
    );
    let _ = write!(
        out,
        r#"<div class="facts"><span><b>{}</b> drifted</span><span><b>{}</b> errors</span><span><b>{}</b> inconclusive</span><span><b>{}</b> passed</span><span>duration <b>{:.1} s</b></span><span><b>{}</b> requests, <b>{}</b> retries</span><span>run <code>{}</code></span><span>started {}</span><span>driftgate {} · scorer v{}</span></div>"#,
        drift,
        r.count(CaseVerdict::Error),
        r.count(CaseVerdict::Inconclusive),
        r.count(CaseVerdict::Pass),
        r.stats.duration_s,
        r.stats.requests,
        r.stats.retries,
        esc(&r.run_id),
        esc(&r.started_at),
        esc(&r.driftgate_version),
        r.scorer_version
    );
    out.push_str(r#"<div class="suites">"#);
    for s in &r.suites {
        suite_card(out, r, s);
    }
    out.push_str("</div></header>");
}

/// The pin of a suite in one line: provider · endpoint · version.
fn pin_line(model: &serde_json::Value) -> String {
    let get = |k: &str| model.get(k).and_then(|v| v.as_str()).map(esc);
    let mut parts = Vec::new();
    if let Some(p) = get("provider") {
        parts.push(format!("<b>{p}</b>"));
    }
    if let Some(e) = get("endpoint") {
        parts.push(format!("<code>{e}</code>"));
    }
    if let Some(v) = get("version") {
        parts.push(format!("pinned version <code>{v}</code>"));
    }
    if parts.is_empty() {
        // Not a suite pin (e.g. `compare`): show what there is.
        return format!("<code>{}</code>", esc(&model.to_string()));
    }
    parts.join(" · ")
}

fn suite_card(out: &mut String, r: &RunReport, s: &SuiteReport) {
    let _ = write!(
        out,
        r#"<div class="suitecard"><h3>Suite {}</h3><div>{}</div>"#,
        esc(&s.suite),
        pin_line(&s.model)
    );
    // The build identity the provider reports now; unchanged fields equal the baseline's.
    let now = r
        .cases
        .iter()
        .filter(|c| c.suite == s.suite)
        .find_map(|c| c.samples.get().iter().find_map(|x| x.provider.clone()))
        .as_ref()
        .map(crate::provider::Metadata::build_identity)
        .unwrap_or_default();
    let mut rows: Vec<(String, String, String, bool)> = now
        .iter()
        .filter(|(k, _)| !s.fingerprint_changes.iter().any(|f| &f.field == *k))
        .map(|(k, v)| (k.clone(), v.clone(), v.clone(), false))
        .collect();
    for f in &s.fingerprint_changes {
        rows.push((
            f.field.clone(),
            f.baseline.clone().unwrap_or_else(|| "—".into()),
            f.candidate.clone().unwrap_or_else(|| "—".into()),
            true,
        ));
    }
    rows.sort_by(|a, b| b.3.cmp(&a.3).then_with(|| a.0.cmp(&b.0)));
    if rows.is_empty() {
        out.push_str(r#"<div class="ok-note">The provider reported no build information.</div>"#);
    } else {
        if s.fingerprint_changes.is_empty() {
            out.push_str(
                r#"<div class="ok-note">✔ Provider build unchanged since the baselines.</div>"#,
            );
        } else {
            out.push_str(r#"<div class="warn-note">⚠ The provider reports a different build than at baseline time.</div>"#);
        }
        out.push_str(r#"<table class="fptab"><tr><th>provider reports</th><th>at baseline</th><th>now</th></tr>"#);
        for (k, b, n, changed) in rows {
            let _ = write!(
                out,
                r#"<tr{}><td>{}{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>"#,
                if changed { r#" class="changed""# } else { "" },
                if changed { "⚠ " } else { "" },
                esc(&k),
                esc(&b),
                esc(&n)
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</div>");
}

fn toolbar(out: &mut String, r: &RunReport) {
    out.push_str(r#"<nav class="toolbar" aria-label="filters">"#);
    let _ = write!(
        out,
        r#"<button data-verdict="all" aria-pressed="true">all {}</button>"#,
        r.cases.len()
    );
    for v in [
        CaseVerdict::Drift,
        CaseVerdict::Error,
        CaseVerdict::Inconclusive,
        CaseVerdict::Pass,
    ] {
        let n = r.count(v);
        let _ = write!(
            out,
            r#"<button data-verdict="{0}" aria-pressed="false">{0} {n}</button>"#,
            v.name()
        );
    }
    out.push_str(r#"<select id="suite" aria-label="suite"><option value="">every suite</option>"#);
    for s in &r.suites {
        let _ = write!(out, r#"<option value="{0}">{0}</option>"#, esc(&s.suite));
    }
    out.push_str(
        r#"</select><select id="tag" aria-label="tag"><option value="">every tag</option>"#,
    );
    let tags: std::collections::BTreeSet<&str> = r
        .cases
        .iter()
        .flat_map(|c| &c.tags)
        .map(|t| t.as_str())
        .filter(|t| !t.contains(char::is_whitespace))
        .collect();
    for t in tags {
        let _ = write!(out, r#"<option value="{0}">{0}</option>"#, esc(t));
    }
    out.push_str(r#"</select><input id="search" type="search" placeholder="search id, prompt or tag  ( / )" aria-label="search"><span id="shown"></span><span class="hint">keys: <b>j</b>/<b>k</b> next/previous case · <b>o</b> open/close · <b>/</b> search</span></nav>"#);
}

/// Median Lab shift over the scored samples.
fn median_shift(c: &CaseReport) -> Option<LabShift> {
    let samples = c.samples.get();
    let ms: Vec<_> = samples.iter().filter_map(|s| s.metrics.as_ref()).collect();
    if ms.is_empty() {
        return None;
    }
    let med = |f: fn(&LabShift) -> f64| {
        let mut v: Vec<f64> = ms.iter().map(|m| f(&m.lab_shift)).collect();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            f64::midpoint(v[n / 2 - 1], v[n / 2])
        }
    };
    Some(LabShift {
        dl: med(|s| s.dl),
        da: med(|s| s.da),
        db: med(|s| s.db),
    })
}

fn figure(out: &mut String, label: &str, path: Option<&String>, n: u32) {
    match path {
        Some(p) => {
            let _ = write!(
                out,
                r#"<figure><a href="{full}" target="_blank" rel="noopener" title="open full resolution"><img loading="lazy" src="{thumb}" alt="{label} of sample {n}"></a><figcaption>{label}</figcaption></figure>"#,
                full = src(p),
                thumb = src(&thumb_path(p)),
            );
        }
        None => {
            let _ = write!(
                out,
                r#"<figure class="missing"><figcaption>no {label}</figcaption></figure>"#
            );
        }
    }
}

fn samples_html(out: &mut String, c: &CaseReport) {
    compare_html(out, c);
    out.push_str(r#"<h4>Every sample: baseline · now · difference</h4>"#);
    for s in c.samples.get().iter() {
        let n = s.index + 1;
        let _ = write!(out, r#"<div class="sample"><span class="n">{n}</span>"#);
        figure(out, "baseline (approved)", s.baseline.as_ref(), n);
        figure(out, "candidate (now)", s.candidate.as_ref(), n);
        figure(out, "difference (red = changed)", s.heatmap.as_ref(), n);
        out.push_str("</div>");
        if let Some(e) = &s.error {
            let _ = write!(out, r#"<div class="fpcase">sample {n}: {}</div>"#, esc(e));
        }
    }
}

/// The swipe and blink view of one sample pair at a time.
fn compare_html(out: &mut String, c: &CaseReport) {
    let samples = c.samples.get();
    let pairs: Vec<&SampleReport> = samples
        .iter()
        .filter(|s| s.baseline.is_some() && s.candidate.is_some())
        .collect();
    let Some(first) = pairs.first() else {
        return;
    };
    let (b, cand) = (
        first.baseline.as_deref().unwrap_or_default(),
        first.candidate.as_deref().unwrap_or_default(),
    );
    out.push_str(r#"<div class="cmp" data-mode="swipe"><div class="cmp-bar"><b>Compare</b><button data-mode="swipe" aria-pressed="true">Swipe</button><button data-mode="blink" aria-pressed="false">Blink</button>"#);
    if pairs.len() > 1 {
        out.push_str("<span>sample</span>");
        for (i, p) in pairs.iter().enumerate() {
            let _ = write!(
                out,
                r#"<button data-b="{}" data-c="{}" aria-pressed="{}">{}</button>"#,
                src(&thumb_path(p.baseline.as_deref().unwrap_or_default())),
                src(&thumb_path(p.candidate.as_deref().unwrap_or_default())),
                i == 0,
                p.index + 1
            );
        }
    }
    let _ = write!(
        out,
        r#"</div><div class="stage"><img class="c" loading="lazy" src="{}" alt="candidate"><img class="b" loading="lazy" src="{}" alt="baseline"><span class="line"></span><span class="lbl l">◀ baseline</span><span class="lbl r">now ▶</span><span class="lbl now">baseline (approved)</span></div><input class="slider" type="range" min="0" max="100" value="50" aria-label="swipe between baseline and candidate"></div>"#,
        src(&thumb_path(cand)),
        src(&thumb_path(b))
    );
}

fn fmt_floor(v: f64) -> String {
    if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else if v.abs() >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// The noise floor as the range the baseline samples spanned.
fn floor_cell(out: &mut String, f: &super::model::MetricFloor) {
    let _ = write!(
        out,
        r#"<td class="num" title="candidates' mean {}">{} – {}</td>"#,
        fmt_floor(f.value),
        fmt_floor(f.low),
        fmt_floor(f.high)
    );
}

fn metrics_html(out: &mut String, c: &CaseReport) {
    let rows = metric_table(c);
    if rows.is_empty() {
        return;
    }
    let with_floor = !c.floors.is_empty();
    out.push_str(r#"<h4>Measurements</h4><table class="m"><tr><th>measure</th><th>this run</th><th>limit</th>"#);
    if with_floor {
        out.push_str(r#"<th title="range among the baseline samples: the model's own noise">noise floor</th>"#);
    }
    out.push_str("</tr>");
    for r in rows {
        let _ = write!(
            out,
            r#"<tr{}><td>{}<span class="mean">{}</span></td><td class="num">{}{}</td><td class="num">{}</td>"#,
            if r.ok { "" } else { r#" class="bad""# },
            r.name,
            r.meaning,
            if r.ok { "" } else { "✖ " },
            esc(&r.value),
            esc(&r.limit)
        );
        if with_floor {
            match c.floors.iter().find(|f| f.metric == r.key) {
                Some(f) => floor_cell(out, f),
                None => out.push_str(r#"<td class="num">-</td>"#),
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</table>");
    // Channels the verdict tests that have no row above (image features, matched regions):
    // folded, as they matter to whoever tunes the verdict more than to a reviewer.
    let keys: Vec<&str> = metric_table(c).iter().map(|r| r.key).collect();
    let extra: Vec<_> = c
        .floors
        .iter()
        .filter(|f| !keys.contains(&f.metric.as_str()))
        .collect();
    if extra.is_empty() {
        return;
    }
    let outside = extra
        .iter()
        .filter(|f| f.value < f.low || f.value > f.high)
        .count();
    let _ = write!(
        out,
        r#"<details class="more"><summary>{} more signals tested, {outside} outside the baselines' range</summary><table class="m"><tr><th>signal</th><th>this run</th><th>noise floor</th></tr>"#,
        extra.len()
    );
    for f in extra {
        let out_of = f.value < f.low || f.value > f.high;
        let _ = write!(
            out,
            r#"<tr><td>{}</td><td class="num">{}{}</td>"#,
            esc(&f.metric.replace('_', " ")),
            if out_of { "↕ " } else { "" },
            fmt_floor(f.value)
        );
        floor_cell(out, f);
        out.push_str("</tr>");
    }
    out.push_str("</table></details>");
}

/// Each baseline colour with its nearest unused candidate colour, by CIEDE2000.
fn match_palettes<'a>(
    base: &'a [PaletteColor],
    cand: &'a [PaletteColor],
) -> Vec<(&'a PaletteColor, Option<(&'a PaletteColor, f64)>)> {
    let mut used = vec![false; cand.len()];
    base.iter()
        .map(|b| {
            let best = cand
                .iter()
                .enumerate()
                .filter(|(i, _)| !used[*i])
                .map(|(i, c)| (i, c, ciede2000(b.lab, c.lab)))
                .min_by(|x, y| x.2.total_cmp(&y.2));
            if let Some((i, c, d)) = best {
                used[i] = true;
                (b, Some((c, d)))
            } else {
                (b, None)
            }
        })
        .collect()
}

fn hex(rgb: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

fn palette_html(out: &mut String, c: &CaseReport) {
    let samples = c.samples.get();
    let Some(s) = samples
        .iter()
        .find(|s| !s.base_palette.is_empty() && !s.cand_palette.is_empty())
    else {
        return;
    };
    let limit = c.thresholds.palette.map_or(5.0, |p| p.max_delta_e);
    let _ = write!(
        out,
        r#"<h4>Palette (sample {}): top baseline, bottom now, ΔE below</h4><div class="pal">"#,
        s.index + 1
    );
    for (b, m) in match_palettes(&s.base_palette, &s.cand_palette) {
        match m {
            Some((cand, d)) => {
                let _ = write!(
                    out,
                    r#"<div class="sw{}" title="baseline {} ({:.0}% of pixels) → now {} ({:.0}%)"><i style="background:{}"></i><i style="background:{}"></i><span>ΔE {d:.1}</span></div>"#,
                    if d > limit { " far" } else { "" },
                    hex(b.rgb),
                    b.share * 100.0,
                    hex(cand.rgb),
                    cand.share * 100.0,
                    hex(b.rgb),
                    hex(cand.rgb),
                );
            }
            None => {
                let _ = write!(
                    out,
                    r#"<div class="sw far" title="baseline {} has no counterpart now"><i style="background:{}"></i><i></i><span>gone</span></div>"#,
                    hex(b.rgb),
                    hex(b.rgb)
                );
            }
        }
    }
    out.push_str("</div>");
}

/// A small SVG line of `values` (oldest first), with an optional limit drawn dashed.
/// The vertical range is at least `min_span`, so run-to-run noise far below any
/// threshold is drawn as the flat line it is rather than stretched to full height.
fn sparkline(values: &[f64], limit: Option<f64>, min_span: f64, bad_last: bool) -> String {
    const W: f64 = 150.0;
    const H: f64 = 34.0;
    let mut lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let mut hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if let Some(l) = limit {
        lo = lo.min(l);
        hi = hi.max(l);
    }
    let span = hi - lo;
    if span < min_span {
        let pad = (min_span - span) / 2.0;
        lo -= pad;
        hi += pad;
    }
    let n = values.len().max(2) - 1;
    #[expect(clippy::cast_precision_loss, reason = "at most TREND_RUNS points")]
    let x = |i: usize| 3.0 + (W - 6.0) * i as f64 / n as f64;
    let y = |v: f64| 3.0 + (H - 6.0) * (1.0 - (v - lo) / (hi - lo));
    let pts: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
        .collect();
    let mut svg = format!(
        r##"<svg width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img"><rect width="{W}" height="{H}" fill="#f6f8fa" rx="3"/>"##
    );
    if let Some(l) = limit {
        let _ = write!(
            svg,
            r##"<line x1="0" x2="{W}" y1="{0:.1}" y2="{0:.1}" stroke="#cf222e" stroke-dasharray="3 3" stroke-width="1"/>"##,
            y(l)
        );
    }
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#0969da" stroke-width="1.6" points="{}"/>"##,
        pts.join(" ")
    );
    if let Some(last) = values.last() {
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"##,
            x(values.len() - 1),
            y(*last),
            if bad_last { "#cf222e" } else { "#1a7f37" }
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One trend line of a case.
struct Series {
    label: &'static str,
    values: Vec<f64>,
    limit: Option<f64>,
    /// Decimals shown for the first and last value.
    digits: usize,
    /// Smallest vertical range drawn.
    min_span: f64,
}

fn trend_html(out: &mut String, c: &CaseReport, history: &[HistoryRecord]) {
    let points: Vec<_> = history
        .iter()
        .filter_map(|r| r.cases.iter().find(|h| h.suite == c.suite && h.id == c.id))
        .collect();
    if points.len() < 2 {
        return;
    }
    let last_bad = points
        .last()
        .is_some_and(|p| p.verdict == CaseVerdict::Drift);
    let _ = write!(
        out,
        r#"<h4>Trend over the last {} runs</h4><div class="trend">"#,
        points.len()
    );
    let ssim_limit = c.thresholds.ssim.map(|t| t.min);
    let de_limit = c.thresholds.delta_e.map(|t| t.max_delta_e);
    let series = [
        Series {
            label: "structure (SSIM)",
            values: points.iter().filter_map(|p| p.ssim).collect(),
            limit: ssim_limit,
            digits: 3,
            min_span: 0.1,
        },
        Series {
            label: "colour (ΔE)",
            values: points.iter().filter_map(|p| p.delta_e).collect(),
            limit: de_limit,
            digits: 2,
            min_span: 3.0,
        },
        Series {
            label: "warmth (Δb, + = warmer)",
            values: points.iter().filter_map(|p| p.db).collect(),
            limit: None,
            digits: 1,
            min_span: 4.0,
        },
    ];
    for s in series {
        if s.values.len() < 2 {
            continue;
        }
        let first = s.values.first().copied().unwrap_or_default();
        let last = s.values.last().copied().unwrap_or_default();
        let d = s.digits;
        let _ = write!(
            out,
            "<div>{}: {first:.d$} → <b>{last:.d$}</b>{}</div>",
            s.label,
            sparkline(&s.values, s.limit, s.min_span, last_bad)
        );
    }
    out.push_str("</div>");
}

fn details_html(out: &mut String, c: &CaseReport) {
    out.push_str(r#"<h4>Request</h4><dl class="kv">"#);
    if !c.prompt.is_empty() {
        let _ = write!(out, "<dt>prompt</dt><dd>{}</dd>", esc(&c.prompt));
    }
    if !c.references.is_empty() {
        let refs: Vec<String> = c
            .references
            .iter()
            .map(|r| format!("<code>{}</code>", esc(r)))
            .collect();
        let _ = write!(out, "<dt>references</dt><dd>{}</dd>", refs.join(" "));
    }
    if let Some(map) = c.params.as_object() {
        for (k, v) in map {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let _ = write!(out, "<dt>{}</dt><dd><code>{}</code></dd>", esc(k), esc(&v));
        }
    } else if !c.params.is_null() {
        let _ = write!(
            out,
            "<dt>params</dt><dd><code>{}</code></dd>",
            esc(&c.params.to_string())
        );
    }
    if let Some(p) = c.samples.get().iter().find_map(|s| s.provider.clone()) {
        if let Some(m) = &p.model {
            let _ = write!(
                out,
                "<dt>provider model</dt><dd><code>{}</code></dd>",
                esc(m)
            );
        }
        for (k, v) in p.headers.iter() {
            let _ = write!(out, "<dt>{}</dt><dd><code>{}</code></dd>", esc(k), esc(v));
        }
    }
    if !c.fingerprint.is_empty() {
        let _ = write!(
            out,
            r#"<dt>request fingerprint</dt><dd><code title="{0}">{1}…</code></dd>"#,
            esc(&c.fingerprint),
            esc(c.fingerprint.get(..12).unwrap_or(&c.fingerprint))
        );
    }
    out.push_str("</dl>");
}

/// One sentence on what happened to a case, in words rather than metric names.
fn headline(c: &CaseReport) -> String {
    match c.verdict {
        CaseVerdict::Pass => "Still looks like the approved baseline.".into(),
        CaseVerdict::Inconclusive => "Not enough samples to tell whether it changed.".into(),
        CaseVerdict::Error => "Could not be judged: the provider or a file failed.".into(),
        CaseVerdict::Drift => {
            let bad: Vec<&str> = metric_table(c)
                .iter()
                .filter(|r| !r.ok)
                .map(|r| r.key)
                .collect();
            let mut what = Vec::new();
            if bad.iter().any(|k| matches!(*k, "ssim" | "phash" | "dhash")) {
                what.push("shapes and composition".to_string());
            }
            if bad
                .iter()
                .any(|k| matches!(*k, "delta_e" | "palette_delta_e"))
            {
                let words = median_shift(c)
                    .map(|s| crate::score::lab_shift_words(&s, 0.0))
                    .unwrap_or_default();
                if words.is_empty() {
                    what.push("colours".to_string());
                } else {
                    what.push(format!("colours ({})", words.join(", ")));
                }
            }
            if c.samples.get().iter().any(|s| s.size_change.is_some()) {
                what.push("image size".to_string());
            }
            if what.is_empty() {
                "Changed beyond the model's usual variation.".into()
            } else {
                format!("Changed: {}.", what.join(" and "))
            }
        }
    }
}

fn case_html(out: &mut String, c: &CaseReport, history: &[HistoryRecord]) {
    let v = c.verdict.name();
    let search =
        esc(&format!("{} {} {} {}", c.suite, c.id, c.prompt, c.tags.join(" ")).to_lowercase());
    let _ = write!(
        out,
        r#"<article class="case v-{v}" id="case-{}-{}" tabindex="-1" data-verdict="{v}" data-suite="{}" data-tags="{}" data-search="{search}"><div><span class="badge {v}">{v}</span> <h2>{}</h2><span class="suite">in {}</span>"#,
        esc(&c.suite),
        esc(&c.id),
        esc(&c.suite),
        esc(&c.tags.join(" ")),
        esc(&c.id),
        esc(&c.suite)
    );
    for t in &c.tags {
        let _ = write!(out, r#"<span class="tag">{}</span>"#, esc(t));
    }
    out.push_str("</div>");
    let _ = write!(out, r#"<p class="headline">{}</p>"#, esc(&headline(c)));
    if c.reasons.is_empty() {
        let line = match c.verdict {
            CaseVerdict::Pass => "Every measure is within its limit.",
            _ => "No reason was recorded.",
        };
        let _ = write!(out, r#"<p class="fine">{line}</p>"#);
    } else {
        out.push_str(r#"<ul class="why">"#);
        for r in &c.reasons {
            let _ = write!(out, "<li>{}</li>", esc(r));
        }
        out.push_str("</ul>");
    }
    if let Some(shift) = median_shift(c) {
        let words = crate::score::lab_shift_words(&shift, 0.0);
        let text = if words.is_empty() {
            "no clear colour cast".to_string()
        } else {
            words.join(", ")
        };
        let _ = write!(
            out,
            r#"<div class="colour">Colour: <b>{}</b> <span class="suite">(median shift L {:+.1}, a {:+.1}, b {:+.1})</span></div>"#,
            esc(&text),
            shift.dl,
            shift.da,
            shift.db
        );
    }
    if !c.fingerprint_changes.is_empty() {
        // One line however many fields changed: the header has the full table.
        let fields: Vec<String> = c
            .fingerprint_changes
            .iter()
            .map(|f| {
                format!(
                    "<code>{}</code> {} (was {})",
                    esc(&f.field),
                    esc(f.candidate.as_deref().unwrap_or("—")),
                    esc(f.baseline.as_deref().unwrap_or("—"))
                )
            })
            .collect();
        let _ = write!(
            out,
            r#"<div class="fpcase">⚠ served by a different build than the baseline: {}</div>"#,
            fields.join(", ")
        );
    }
    let open = if c.verdict == CaseVerdict::Pass {
        ""
    } else {
        " open"
    };
    let _ = write!(
        out,
        r#"<details class="body"{open}><summary>images, measurements and request</summary><div class="grid"><div>"#
    );
    samples_html(out, c);
    out.push_str("</div><div>");
    trend_html(out, c, history);
    metrics_html(out, c);
    palette_html(out, c);
    details_html(out, c);
    out.push_str("</div></div></details></article>");
}

/// Renders the HTML report without a trend.
#[must_use]
pub fn render_html(report: &RunReport) -> String {
    render_html_with_history(report, &[])
}

/// Renders the HTML report; `history` (oldest first, this run last) feeds the trend lines.
#[must_use]
pub fn render_html_with_history(report: &RunReport, history: &[HistoryRecord]) -> String {
    let mut out = Vec::with_capacity(32 * 1024 + report.cases.len() * 8 * 1024);
    // Writing into a Vec cannot fail, and every piece written is a UTF-8 string.
    let _ = write_html(report, history, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the HTML report into `w` one case at a time: a large run's page is
/// megabytes and never has to exist in memory as a whole.
///
/// # Errors
/// When `w` fails.
pub fn write_html(
    report: &RunReport,
    history: &[HistoryRecord],
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let verdict = verdict_class(report.verdict);
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{}">
<meta name="referrer" content="no-referrer">
<title>driftgate {verdict}: {}</title><style>{STYLE}</style></head><body>"#,
        csp(),
        esc(&report.run_id),
    );
    banner(&mut out, report);
    toolbar(&mut out, report);
    out.push_str("<main>");
    for c in &report.cases {
        w.write_all(out.as_bytes())?;
        out.clear();
        case_html(&mut out, &c.held(), history);
    }
    out.push_str(r#"<p id="none" class="empty" hidden>No case matches the filters.</p>"#);
    let _ = writeln!(out, "</main><script>{SCRIPT}</script></body></html>");
    w.write_all(out.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_refuses_foreign_sources() {
        assert_eq!(esc(r#"<script>"'&"#), "&lt;script&gt;&quot;&#39;&amp;");
        assert_eq!(src("https://evil/x.png"), "");
        assert_eq!(src("javascript:alert(1)"), "");
        assert_eq!(src("../../etc/passwd"), "");
        assert_eq!(src("/abs.png"), "");
        assert_eq!(src("candidates/s/c/0.png"), "candidates/s/c/0.png");
        assert_eq!(src("a b/#?%.png"), "a%20b/%23%3F%25.png");
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn sparkline_draws_one_point_per_value() {
        let svg = sparkline(&[0.9, 0.95, 0.8], Some(0.85), 0.1, true);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches(',').count(), 3);
        assert!(svg.contains("stroke-dasharray"));
    }
}
