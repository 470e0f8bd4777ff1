//! `index.html`: a self-contained page (inline CSS and script, images as files beside
//! it, a Content Security Policy that forbids outside requests). Every string that
//! comes from a suite, a provider or a file is escaped.

use std::fmt::Write;

use super::model::{CaseReport, CaseVerdict, RunReport, RunVerdict};
use super::text::metric_rows;

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
    if path.contains("://")
        || path.starts_with('/')
        || path.starts_with("javascript:")
        || path.starts_with("data:")
    {
        return String::new();
    }
    path.split('/')
        .map(|seg| {
            esc(seg)
                .replace('#', "%23")
                .replace('?', "%3F")
                .replace(' ', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

const STYLE: &str = r#"
:root{--pass:#1a7f37;--drift:#cf222e;--error:#9a6700;--inconclusive:#6e7781;--bg:#f6f8fa;--fg:#1f2328}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
header{background:#fff;border-bottom:1px solid #d0d7de;padding:16px 24px}h1{margin:0 0 4px;font-size:22px}
.badge{display:inline-block;border-radius:12px;padding:1px 10px;color:#fff;font-weight:600;font-size:12px;text-transform:uppercase}
.pass{background:var(--pass)}.drift{background:var(--drift)}.error{background:var(--error)}.inconclusive,.incomplete{background:var(--inconclusive)}
.counts span{margin-right:14px}.pin{color:#57606a;font-size:13px}.fp{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin-top:8px}
nav{padding:10px 24px;display:flex;gap:8px;flex-wrap:wrap;align-items:center}nav button{border:1px solid #d0d7de;background:#fff;border-radius:6px;padding:4px 10px;cursor:pointer}
nav button[aria-pressed=true]{background:#0969da;color:#fff;border-color:#0969da}nav input{padding:4px 8px;border:1px solid #d0d7de;border-radius:6px;min-width:240px}
main{padding:0 24px 40px}.case{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:12px 0;padding:12px 16px}.case:focus{outline:2px solid #0969da}
.case h2{font-size:16px;margin:0 0 6px}.reasons{margin:4px 0 8px;padding-left:18px}.prompt{color:#57606a;font-style:italic}
.samples{display:flex;flex-direction:column;gap:10px}.sample{display:grid;grid-template-columns:repeat(3,minmax(0,240px)) minmax(0,240px);gap:8px;align-items:start}
figure{margin:0}figure img{width:100%;border:1px solid #d0d7de;border-radius:4px;display:block;background:#eee}figcaption{font-size:12px;color:#57606a}
.swipe{position:relative}.swipe .top{position:absolute;inset:0;overflow:hidden;width:50%}.swipe .top img{width:var(--w,240px);max-width:none}
.swipe input{width:100%}table{border-collapse:collapse;margin-top:8px}td,th{border-bottom:1px solid #eaeef2;padding:3px 10px;text-align:left}
td.bad{color:var(--drift);font-weight:600}.hidden{display:none}details{margin-top:6px}code{background:#f6f8fa;padding:1px 4px;border-radius:4px}
"#;

const SCRIPT: &str = r#"
(function(){
  var filter='all', q='';
  function apply(){document.querySelectorAll('.case').forEach(function(c){
    var okV = filter==='all' || c.dataset.verdict===filter;
    var okQ = !q || c.dataset.search.indexOf(q)>=0;
    c.classList.toggle('hidden', !(okV&&okQ));});}
  document.querySelectorAll('nav button').forEach(function(b){b.addEventListener('click',function(){
    filter=b.dataset.filter; document.querySelectorAll('nav button').forEach(function(x){x.setAttribute('aria-pressed', x===b?'true':'false');}); apply();});});
  var s=document.getElementById('search'); if(s){s.addEventListener('input',function(){q=s.value.toLowerCase(); apply();});}
  document.querySelectorAll('.swipe').forEach(function(w){var r=w.querySelector('input'), top=w.querySelector('.top');
    function set(){top.style.width=r.value+'%'; w.style.setProperty('--w', w.querySelector('.under').clientWidth+'px');}
    r.addEventListener('input',set); window.addEventListener('load',set);});
  document.addEventListener('keydown',function(e){ if(e.target.tagName==='INPUT')return;
    var cs=[].slice.call(document.querySelectorAll('.case:not(.hidden)')); if(!cs.length)return;
    var i=cs.indexOf(document.activeElement);
    if(e.key==='j'){(cs[i+1]||cs[0]).focus();} if(e.key==='k'){(cs[i-1]||cs[cs.length-1]).focus();}});
})();
"#;

fn case_html(out: &mut String, c: &CaseReport) {
    let v = c.verdict.name();
    let search =
        esc(&format!("{} {} {} {}", c.suite, c.id, c.prompt, c.tags.join(" ")).to_lowercase());
    let _ = write!(
        out,
        r#"<section class="case" tabindex="0" data-verdict="{v}" data-search="{search}"><h2><span class="badge {v}">{v}</span> {}/{}</h2>"#,
        esc(&c.suite),
        esc(&c.id)
    );
    if !c.reasons.is_empty() {
        out.push_str(r#"<ul class="reasons">"#);
        for r in &c.reasons {
            let _ = write!(out, "<li>{}</li>", esc(r));
        }
        out.push_str("</ul>");
    }
    if !c.prompt.is_empty() {
        let _ = write!(out, r#"<div class="prompt">“{}”</div>"#, esc(&c.prompt));
    }
    for f in &c.fingerprint_changes {
        let _ = write!(
            out,
            r#"<div class="fp">provider now reports <code>{}</code> = <code>{}</code> (baseline: <code>{}</code>)</div>"#,
            esc(&f.field),
            esc(f.candidate.as_deref().unwrap_or("—")),
            esc(f.baseline.as_deref().unwrap_or("—"))
        );
    }
    out.push_str(r#"<div class="samples">"#);
    for s in &c.samples {
        out.push_str(r#"<div class="sample">"#);
        for (label, path) in [
            ("baseline", &s.baseline),
            ("candidate", &s.candidate),
            ("SSIM heatmap (red = changed)", &s.heatmap),
        ] {
            match path {
                Some(p) => {
                    let _ = write!(
                        out,
                        r#"<figure><a href="{0}"><img loading="lazy" src="{0}" alt="{1} {2}"></a><figcaption>{1} #{2}</figcaption></figure>"#,
                        src(p),
                        label,
                        s.index
                    );
                }
                None => {
                    let _ = write!(
                        out,
                        "<figure><figcaption>no {label} #{}</figcaption></figure>",
                        s.index
                    );
                }
            }
        }
        if let (Some(b), Some(cand)) = (&s.baseline, &s.candidate) {
            let _ = write!(
                out,
                r#"<figure class="swipe"><img class="under" src="{}" alt="candidate"><div class="top"><img src="{}" alt="baseline"></div><input type="range" min="0" max="100" value="50" aria-label="swipe between baseline and candidate"><figcaption>swipe: baseline ◀ ▶ candidate</figcaption></figure>"#,
                src(cand),
                src(b)
            );
        } else if let Some(e) = &s.error {
            let _ = write!(out, "<figure><figcaption>{}</figcaption></figure>", esc(e));
        }
        out.push_str("</div>");
    }
    out.push_str("</div>");
    let rows = metric_rows(c);
    if !rows.is_empty() {
        out.push_str("<table><tr><th>metric</th><th>value</th><th>limit</th></tr>");
        for (name, value, limit, ok) in rows {
            let _ = write!(
                out,
                r#"<tr><td>{name}</td><td{}>{value}</td><td>{}</td></tr>"#,
                if ok { "" } else { r#" class="bad""# },
                esc(&limit)
            );
        }
        out.push_str("</table>");
    }
    let params = serde_json::to_string(&c.params).unwrap_or_default();
    let _ = write!(
        out,
        "<details><summary>parameters</summary><code>{}</code></details></section>",
        esc(&params)
    );
}

/// Renders the HTML report.
#[must_use]
pub fn render_html(report: &RunReport) -> String {
    let verdict = match report.verdict {
        RunVerdict::Pass => "pass",
        RunVerdict::Drift => "drift",
        RunVerdict::Incomplete => "incomplete",
    };
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<title>driftgate {verdict}: {}</title><style>{STYLE}</style></head><body><header><h1><span class="badge {verdict}">{verdict}</span> driftgate run {}</h1>"#,
        esc(&report.run_id),
        esc(&report.run_id)
    );
    let _ = write!(
        out,
        r#"<div class="counts"><span>{} cases</span><span>✔ {} passed</span><span>✖ {} drifted</span><span>? {} inconclusive</span><span>! {} errors</span><span>{} requests, {} retries, {:.1}s</span></div>"#,
        report.cases.len(),
        report.count(CaseVerdict::Pass),
        report.count(CaseVerdict::Drift),
        report.count(CaseVerdict::Inconclusive),
        report.count(CaseVerdict::Error),
        report.stats.requests,
        report.stats.retries,
        report.stats.duration_s
    );
    for s in &report.suites {
        let _ = write!(
            out,
            r#"<div class="pin">suite <b>{}</b>: <code>{}</code></div>"#,
            esc(&s.suite),
            esc(&s.model.to_string())
        );
        for f in &s.fingerprint_changes {
            let _ = write!(
                out,
                r#"<div class="fp">⚠ fingerprint change in <b>{}</b>: <code>{}</code> was <code>{}</code>, now <code>{}</code></div>"#,
                esc(&s.suite),
                esc(&f.field),
                esc(f.baseline.as_deref().unwrap_or("—")),
                esc(f.candidate.as_deref().unwrap_or("—"))
            );
        }
    }
    out.push_str(r#"</header><nav><button data-filter="all" aria-pressed="true">all</button>"#);
    for v in ["drift", "error", "inconclusive", "pass"] {
        let _ = write!(
            out,
            r#"<button data-filter="{v}" aria-pressed="false">{v}</button>"#
        );
    }
    out.push_str(r#"<input id="search" type="search" placeholder="search id or prompt"><span class="pin">keys: j / k to move between cases</span></nav><main>"#);
    for c in &report.cases {
        case_html(&mut out, c);
    }
    let _ = writeln!(out, "</main><script>{SCRIPT}</script></body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_refuses_foreign_sources() {
        assert_eq!(esc(r#"<script>"'&"#), "&lt;script&gt;&quot;&#39;&amp;");
        assert_eq!(src("https://evil/x.png"), "");
        assert_eq!(src("candidates/s/c/0.png"), "candidates/s/c/0.png");
    }
}
